/*
 * refresh.c
 *		Support of retail.refresh().
 */
#include "retail_analytics.h"

#include "access/xact.h"

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
