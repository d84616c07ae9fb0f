/*
 * Preloaded after the sanitizer runtimes into the Lua interpreter by
 * `make test-asan` (mk/quality.mk); never part of the module.
 *
 * 1. The interpreter needs libasan/libubsan in LD_PRELOAD, but the processes
 *    it spawns must not inherit them: the specs shell out to the curl CLI,
 *    and curl deadlocks in setlocale() at start-up when libasan is preloaded
 *    into it (glibc 2.36, GCC 12).  The constructor runs after the dynamic
 *    loader has consumed LD_PRELOAD and removes it from this process's
 *    environment, so only the interpreter runs with the sanitizer runtimes.
 *
 * 2. lua_close() unloads every C module with dlclose().  LeakSanitizer checks
 *    for leaks after that, when core.so is no longer mapped, and can only
 *    print "(<unknown module>)" for the frames of a leak in our code.  This
 *    dlclose() keeps every library mapped (returning success), so leak
 *    reports name our functions and lines, and so tools/lsan.supp can match
 *    third-party libraries by name.
 */
#include <stdlib.h>

int dlclose(void *handle);

__attribute__((constructor)) static void dt_asan_preload(void)
{
    unsetenv("LD_PRELOAD");
}

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
