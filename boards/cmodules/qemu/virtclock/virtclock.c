// The virt board has no real-time clock: files on its RAM disk are stamped 0.
#include <stdint.h>
uint64_t mp_hal_time_ns(void) {
    return 0;
}
