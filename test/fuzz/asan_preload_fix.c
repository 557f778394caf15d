/*
 * Preloaded after the ASan runtime into the (uninstrumented) server so that
 * the runtime can start there (test/fuzz/lib.sh).
 *
 * Preloaded, the runtime starts on the first call it intercepts, which in the
 * server happens inside a library constructor (p11-kit, via libldap and
 * gnutls) that holds glibc's locale lock.  At start the runtime looks up
 * swift_demangle and clears the lookup error with dlerror(), which translates
 * the message through gettext and so takes the same lock: every process then
 * hangs in bindtextdomain() (the "pg_ctl hangs" of issue 8).  With the symbol
 * defined the lookup succeeds and dlerror() has nothing to translate.
 * Returning NULL means "not a Swift name", so symbolization is unchanged.
 */
#include <stddef.h>
#include <stdint.h>

char	   *swift_demangle(const char *name, size_t len, char *out,
						   size_t *outlen, uint32_t flags);

char *
swift_demangle(const char *name, size_t len, char *out, size_t *outlen,
			   uint32_t flags)
{
	return NULL;
}
