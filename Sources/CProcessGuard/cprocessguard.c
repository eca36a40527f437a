// The header's inline functions are the whole module; SwiftPM needs one source file per C target.
#include "cprocessguard.h"
