/*
 * lazylib: see lazylib.h.
 */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int
lazylib_load(struct lazylib *l, void *fns, const char *const *names, size_t n, char *err,
    size_t errlen)
{
	pthread_mutex_lock(&lock);
	if (l->state == 0) {
		/* RTLD_NOW: a missing symbol shows here, not at some later call. */
		l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
		if (!l->handle) {
			const char *why = dlerror();
			snprintf(l->error, sizeof l->error, "cannot load %s: %s", l->soname,
			    why ? why : "unknown reason");
			l->state = -1;
		} else {
			/* The table is a struct of function pointers, one per name
			 * (its size is checked where it is declared); POSIX has
			 * dlsym's object pointer stored into it as is. */
			char *slot = fns;
			l->state = 1;
			for (size_t i = 0; i < n; i++) {
				void *p = dlsym(l->handle, names[i]);
				if (!p) {
					snprintf(l->error, sizeof l->error, "%s has no %s", l->soname,
					    names[i]);
					l->state = -1;
					break;
				}
				memcpy(slot + i * sizeof p, &p, sizeof p);
			}
			if (l->state == 1 && l->opened)
				l->opened();
		}
	}
	int rc = 0;
	if (l->state < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", l->error);
		rc = -1;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void
lazylib_unload(struct lazylib *l, void *fns, size_t n)
{
	pthread_mutex_lock(&lock);
	if (l->state == 1) {
		if (l->closing)
			l->closing();
		memset(fns, 0, n * sizeof(void *));
		(void)dlclose(l->handle); /* fails only for a handle dlopen did not give */
		l->handle = NULL;
		l->state = 0;
	}
	pthread_mutex_unlock(&lock);
}
