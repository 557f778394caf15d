/*
 * Linked into the sanitizer build only (test/fuzz/lib.sh), with
 * -Wl,--wrap=palloc and so on: makes the extension's own allocations visible
 * to AddressSanitizer.
 *
 * A memory context hands out small chunks from blocks it got from malloc, so
 * ASan cannot see one chunk overrun the next, nor a chunk used after pfree.
 * Here every allocation the extension asks for is made larger than any
 * context's chunk limit (8 kB), so that it gets a malloc block of its own,
 * which pfree gives back to malloc (a later use is a use after free); the
 * bytes past the size asked for are poisoned (an overrun is reported).
 * Allocations made inside the server on the extension's behalf (pstrdup,
 * StringInfo, hash tables) stay unchecked.
 */
#include "postgres.h"

#include <sanitizer/asan_interface.h>

/* More than any memory context's limit for chunks sharing a block */
#define OWN_BLOCK_SIZE	(8192 + 1)

void	   *__real_palloc(Size size);
void	   *__real_palloc0(Size size);
void	   *__real_palloc_extended(Size size, int flags);
void	   *__real_repalloc(void *pointer, Size size);
void	   *__real_repalloc_huge(void *pointer, Size size);
void	   *__real_MemoryContextAlloc(MemoryContext context, Size size);
void	   *__real_MemoryContextAllocZero(MemoryContext context, Size size);
void	   *__real_MemoryContextAllocHuge(MemoryContext context, Size size);
void	   *__real_MemoryContextAllocExtended(MemoryContext context, Size size, int flags);

void	   *__wrap_palloc(Size size);
void	   *__wrap_palloc0(Size size);
void	   *__wrap_palloc_extended(Size size, int flags);
void	   *__wrap_repalloc(void *pointer, Size size);
void	   *__wrap_repalloc_huge(void *pointer, Size size);
void	   *__wrap_MemoryContextAlloc(MemoryContext context, Size size);
void	   *__wrap_MemoryContextAllocZero(MemoryContext context, Size size);
void	   *__wrap_MemoryContextAllocHuge(MemoryContext context, Size size);
void	   *__wrap_MemoryContextAllocExtended(MemoryContext context, Size size, int flags);
char	   *__wrap_pnstrdup(const char *in, Size len);

static Size
padded(Size size)
{
	return Max(size, OWN_BLOCK_SIZE);
}

/* Poisons what lies between the size asked for and the end of the block */
static void *
fenced(void *pointer, Size size)
{
	if (pointer != NULL)
		ASAN_POISON_MEMORY_REGION((char *) pointer + size, MAXALIGN(padded(size)) - size);
	return pointer;
}

void *
__wrap_palloc(Size size)
{
	return fenced(__real_palloc(padded(size)), size);
}

void *
__wrap_palloc0(Size size)
{
	return fenced(__real_palloc0(padded(size)), size);
}

void *
__wrap_palloc_extended(Size size, int flags)
{
	return fenced(__real_palloc_extended(padded(size), flags), size);
}

void *
__wrap_repalloc(void *pointer, Size size)
{
	return fenced(__real_repalloc(pointer, padded(size)), size);
}

void *
__wrap_repalloc_huge(void *pointer, Size size)
{
	return fenced(__real_repalloc_huge(pointer, padded(size)), size);
}

void *
__wrap_MemoryContextAlloc(MemoryContext context, Size size)
{
	return fenced(__real_MemoryContextAlloc(context, padded(size)), size);
}

void *
__wrap_MemoryContextAllocZero(MemoryContext context, Size size)
{
	return fenced(__real_MemoryContextAllocZero(context, padded(size)), size);
}

void *
__wrap_MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return fenced(__real_MemoryContextAllocHuge(context, padded(size)), size);
}

void *
__wrap_MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return fenced(__real_MemoryContextAllocExtended(context, padded(size), flags), size);
}

char *
__wrap_pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = __wrap_palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}
