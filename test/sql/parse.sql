SELECT retail.try_int4('42');
