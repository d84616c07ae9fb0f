#include "compat.h"

#if LUA_VERSION_NUM < 502
void dt_setfuncs(lua_State *L, const luaL_Reg *l)
{
    for (; l->name != NULL; l++) {
        lua_pushcfunction(L, l->func);
        lua_setfield(L, -2, l->name);
    }
}
#endif

void *dt_testudata(lua_State *L, int idx, const char *tname)
{
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2))
        p = NULL;
    lua_pop(L, 2);
    return p;
}

int dt_newmetatable(lua_State *L, const char *tname)
{
    int created = luaL_newmetatable(L, tname);
#if LUA_VERSION_NUM < 503
    if (created) {
        lua_pushstring(L, tname);
        lua_setfield(L, -2, "__name");
    }
#endif
    return created;
}

void dt_class_new(lua_State *L, const char *tname, const luaL_Reg *methods)
{
    dt_newmetatable(L, tname);
    lua_newtable(L);
    if (methods != NULL)
        dt_setfuncs(L, methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
}

void dt_class_ends(lua_State *L, lua_CFunction gc, lua_CFunction close, lua_CFunction tostring)
{
    const char *const names[] = {"__gc", "__close", "__tostring"};
    lua_CFunction fns[3];
    int i;
    fns[0] = gc;
    fns[1] = close;
    fns[2] = tostring;
    for (i = 0; i < 3; i++) {
        if (fns[i] != NULL) {
            lua_pushcfunction(L, fns[i]);
            lua_setfield(L, -2, names[i]);
        }
    }
}
