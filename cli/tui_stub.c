/* Until the TUI lands (issue: the TUI shell), say so plainly. */
#include <stdio.h>

#include "cli.h"

int
tui_run(struct cli *c)
{
	(void)c;
	fprintf(stderr, "hsmdesk: the terminal UI is not built yet; use the "
	    "commands ('hsmdesk --help')\n");
	return 2;
}
