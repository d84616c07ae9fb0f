#include "dt_consts.h"

#include <string.h>

/* X(name, family) for each API version, newest first. */
#define DT_API_VERSION_LIST(X)                                                           \
    X(DT_DEFAULT_API_VERSION, DT_FAMILY_DATED)                                           \
    X("2024-11-01-preview", DT_FAMILY_DATED)                                             \
    X("2024-05-01", DT_FAMILY_DATED)                                                     \
    X("v1.1", DT_FAMILY_V1)                                                              \
    X("v1.0", DT_FAMILY_V1)                                                              \
    X("v1.0-preview.1", DT_FAMILY_V1)

#define DT_API_ENTRY(name, family) {name, family},
#define DT_API_TEXT(name, family) ", " name

const dt_api_version dt_api_versions[] = {DT_API_VERSION_LIST(DT_API_ENTRY){NULL, (dt_family)0}};

const char *dt_api_versions_text(void)
{
    static const char text[] = DT_API_VERSION_LIST(DT_API_TEXT);
    return text + 2; /* past the first ", " */
}

const char *const dt_terminal_statuses[] = {"Succeeded", "Failed", "Cancelled", "Canceled",
                                            "ValidationFailed", NULL};

int dt_status_terminal(const char *status)
{
    size_t i;
    if (status == NULL)
        return 0;
    for (i = 0; dt_terminal_statuses[i] != NULL; i++)
        if (strcmp(status, dt_terminal_statuses[i]) == 0)
            return 1;
    return 0;
}
