extern "C" {
#include "internal.h"
}
