/*
 * Linked into the sanitizer build only (test/fuzz/build).  The server is not
 * built with ASan, so the runtime arrives with our library when a backend
 * loads it, not first in the list of libraries (preloading it hangs the
 * server at start here); and a backend rewrites its environment for ps, so
 * ASAN_OPTIONS and UBSAN_OPTIONS would not be read.  The options are
 * therefore compiled in.  Reports go to stderr, i.e. the server log.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "verify_asan_link_order=0:detect_leaks=0:abort_on_error=1:"
		"print_suppressions=0:handle_segv=0:handle_abort=0:allow_user_segv_handler=1";
}

const char *
__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1:abort_on_error=1";
}
