#define _GNU_SOURCE
#include "cscan.h"
#include <fcntl.h>
#include <unistd.h>

int coffer_seek_data(void) { return SEEK_DATA; }
int coffer_seek_hole(void) { return SEEK_HOLE; }
int coffer_o_path(void) { return O_PATH; }
int coffer_at_empty_path(void) { return AT_EMPTY_PATH; }
