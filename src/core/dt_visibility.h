/* Only luaopen_doctranslate_core leaves the built module: every function and
 * variable the C files share is hidden, whatever the build's flags (the
 * Makefile passes -fvisibility=hidden; LuaRocks' builtin build passes none).
 * Each header wraps its declarations, after its own #includes so that system
 * and library headers are never inside:
 *     DT_HIDDEN_BEGIN  ...declarations...  DT_HIDDEN_END */
#ifndef DT_VISIBILITY_H
#define DT_VISIBILITY_H

#if defined(__GNUC__) || defined(__clang__)
#define DT_HIDDEN_BEGIN _Pragma("GCC visibility push(hidden)")
#define DT_HIDDEN_END _Pragma("GCC visibility pop")
#else
#define DT_HIDDEN_BEGIN
#define DT_HIDDEN_END
#endif

#endif
