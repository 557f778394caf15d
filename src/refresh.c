/*
 * refresh.c
 *		Support of retail.refresh().
 */
#include "retail_analytics.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/*
 * Whether the caller runs inside a transaction block, where a procedure may
 * not COMMIT: retail.refresh() then leaves the failure's log row to the
 * caller's transaction instead of committing it.
 */
PG_FUNCTION_INFO_V1(ra_in_transaction_block);
Datum
ra_in_transaction_block(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsTransactionBlock());
}

/*
 * The log rows of the last failed run of this backend, as text, kept outside
 * any transaction.  retail.refresh() rolls a failed run back and logs them
 * again in a transaction of their own: on Citus, a transaction that lost a
 * worker it wrote to cannot commit, and the rows would go with it.  Only
 * what retail.refresh_run remembered can be logged this way.
 */
static char *failed_run_rows = NULL;

/* Remember the rows given (forget them for NULL) */
PG_FUNCTION_INFO_V1(ra_remember_failed_run);
Datum
ra_remember_failed_run(PG_FUNCTION_ARGS)
{
	if (failed_run_rows != NULL)
	{
		pfree(failed_run_rows);
		failed_run_rows = NULL;
	}
	if (!PG_ARGISNULL(0))
		failed_run_rows = MemoryContextStrdup(TopMemoryContext, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/* The rows remembered, forgotten as they are returned; NULL if none */
PG_FUNCTION_INFO_V1(ra_take_failed_run);
Datum
ra_take_failed_run(PG_FUNCTION_ARGS)
{
	text	   *rows;

	if (failed_run_rows == NULL)
		PG_RETURN_NULL();
	rows = cstring_to_text(failed_run_rows);
	pfree(failed_run_rows);
	failed_run_rows = NULL;
	PG_RETURN_TEXT_P(rows);
}
