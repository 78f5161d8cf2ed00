/* The geofence kernel of firmware/geofence.py, in C, for make bench: the same
 * algorithm on the same words, so the viper kernel's speed can be put beside it.
 * usage: geofence_c ZONE_WORDS POINTS REPEAT  -> prints "checks_per_s checksum" */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define HEADER 6
#define EDGE 7
#define UNIT 32768

static int32_t isqrt_round(int32_t n) {
    int32_t r = 0, bit = 1 << 28;
    while (bit > n) bit >>= 2;
    while (bit) {
        if (n >= r + bit) { n -= r + bit; r = (r >> 1) + bit; }
        else r >>= 1;
        bit >>= 2;
    }
    return n > r ? r + 1 : r;
}

static int32_t depth(const uint32_t *z, int32_t px, int32_t py) {
    int32_t reach = z[5];
    int32_t gx = (int32_t)z[1] - px, gy = (int32_t)z[2] - py;
    if (px - (int32_t)z[3] > gx) gx = px - (int32_t)z[3];
    if (py - (int32_t)z[4] > gy) gy = py - (int32_t)z[4];
    if (gx > reach || gy > reach) return -(gx > gy ? gx : gy);
    int inside = 0;
    int32_t best_v2 = 32768 * 32768 - 1, best_q = 32768, band = 32768;
    const uint32_t *e = z + HEADER, *end = e + z[0] * EDGE;
    for (; e < end; e += EDGE) {
        int32_t ay = e[1], by = e[3], dy = py - ay;
        if ((dy > band && py - by > band) || (-dy > band && by - py > band)) continue;
        int32_t ax = e[0], dx = px - ax, ex = (int32_t)e[2] - ax, ey = by - ay;
        if (ay > py) { if (by <= py && ex * dy - ey * dx < 0) inside ^= 1; }
        else if (by > py && ex * dy - ey * dx > 0) inside ^= 1;
        int32_t t = dx * ex + dy * ey;
        if (t <= 0) {
            int32_t d2 = dx * dx + dy * dy;
            if (d2 < best_v2) {
                best_v2 = d2;
                int32_t adx = dx < 0 ? -dx : dx, ady = dy < 0 ? -dy : dy;
                int32_t b = adx > ady ? adx + (ady >> 1) + 1 : ady + (adx >> 1) + 1;
                if (b < band) band = b;
            }
        } else if (t < (int32_t)e[4]) {
            int32_t s = dx * ((int32_t)e[6] - UNIT) - dy * ((int32_t)e[5] - UNIT);
            if (s < 0) s = -s;
            int32_t q = (s + 16384) >> 15;
            if (q < best_q) { best_q = q; if (q + 2 < band) band = q + 2; }
        }
    }
    int32_t d = isqrt_round(best_v2);
    if (best_q < d) d = best_q;
    return inside ? d : -d;
}

static void *slurp(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END); *size = ftell(f); fseek(f, 0, SEEK_SET);
    void *buf = malloc(*size);
    if (fread(buf, 1, *size, f) != (size_t)*size) { perror(path); exit(1); }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s ZONE POINTS REPEAT\n", argv[0]); return 2; }
    long zs, ps;
    uint32_t *zone = slurp(argv[1], &zs);
    int32_t *pts = slurp(argv[2], &ps);
    long n = ps / 8, repeat = atol(argv[3]);
    volatile int64_t checksum = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long r = 0; r < repeat; r++)
        for (long i = 0; i < n; i++) checksum += depth(zone, pts[2 * i], pts[2 * i + 1]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f %lld\n", n * repeat / s, (long long)(checksum / repeat));
    return 0;
}
