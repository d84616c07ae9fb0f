/* fork() for specs: a Lua module with fork, wait and _exit, compiled by the
 * spec that needs it (spec/core/13-fork_spec.lua), so that a client used
 * before a fork can be used in the child the way a preforking server does. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

/* fork() -> pid in the parent, 0 in the child, nil on failure */
static int l_fork(lua_State *L)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    lua_pushinteger(L, (lua_Integer)pid);
    return 1;
}

/* wait(pid) -> the child's exit code, -1 when it did not exit normally, nil on failure */
static int l_wait(lua_State *L)
{
    pid_t pid = (pid_t)luaL_checkinteger(L, 1);
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
    }
    if (r < 0)
        return 0;
    lua_pushinteger(L, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 1;
}

/* _exit(code): ends the child without running the parent's exit handlers */
static int l_exit(lua_State *L)
{
    _exit((int)luaL_optinteger(L, 1, 0));
    return 0;
}

int luaopen_fork(lua_State *L);
int luaopen_fork(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, l_fork);
    lua_setfield(L, -2, "fork");
    lua_pushcfunction(L, l_wait);
    lua_setfield(L, -2, "wait");
    lua_pushcfunction(L, l_exit);
    lua_setfield(L, -2, "_exit");
    return 1;
}
