// The header does the work; SwiftPM needs one source file per C target.
#include "CSpawn.h"
