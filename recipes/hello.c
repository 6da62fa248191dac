/* SPDX-License-Identifier: Apache-2.0 */
/* The example application of recipes/: prints a greeting and the port it would serve on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
        const char *port = "8080";
        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], "--port") == 0)
                        port = argv[i + 1];
        const char *who = getenv("HELLO_NAME");
        printf("hello from cairn%s%s, port %s\n", who ? ", " : "", who ? who : "", port);
        return 0;
}
