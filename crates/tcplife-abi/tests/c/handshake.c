/* A C program on tcplife.h alone: one Ethernet handshake through tcplife_feed_frame, then the
 * connection's summary, printed for tests/c_program.rs to compare. */
#include <stdio.h>
#include <string.h>
#include "tcplife.h"

static size_t frame(uint8_t *f, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    memset(f, 0, 54);
    f[12] = 0x08; /* IPv4 */
    uint8_t *ip = f + 14, *tcp = f + 34;
    ip[0] = 0x45;
    ip[3] = 40;
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    tcp[0] = sport >> 8; tcp[1] = sport & 0xff;
    tcp[2] = dport >> 8; tcp[3] = dport & 0xff;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = seq >> (24 - 8 * i);
        tcp[8 + i] = ack >> (24 - 8 * i);
    }
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    tcp[14] = 0xff; tcp[15] = 0xff;
    return 54;
}

int main(void)
{
    if (tcplife_abi_version() != TCPLIFE_ABI_VERSION)
        return 2;
    const uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    uint8_t f[54];
    tcplife_tracker *t = tcplife_tracker_new();
    tcplife_annotation a;
    struct { const uint8_t *src; uint16_t sp; const uint8_t *dst; uint16_t dp; uint32_t seq, ack; uint8_t fl; } pk[3] = {
        {c, 40000, s, 80, 1000, 0, 0x02},
        {s, 80, c, 40000, 5000, 1001, 0x12},
        {c, 40000, s, 80, 1001, 5001, 0x10},
    };
    for (int i = 0; i < 3; i++) {
        size_t n = frame(f, pk[i].src, pk[i].sp, pk[i].dst, pk[i].dp, pk[i].seq, pk[i].ack, pk[i].fl);
        if (tcplife_feed_frame(t, 1, i + 1, (i + 1) * 1000, f, n, &a) != TCPLIFE_OK)
            return 3;
        printf("%llu %s %s %s %s %s\n", (unsigned long long)a.frame, a.role, a.event, a.phase,
               a.step, a.history);
    }
    size_t n = tcplife_finish(t);
    for (size_t i = 0; i < n; i++) {
        tcplife_summary sum;
        if (tcplife_summary_get(t, i, &sum) != TCPLIFE_OK)
            return 4;
        printf("%s:%u -> %s:%u %s %s rtt=%llu\n", sum.orig_h, sum.orig_p, sum.resp_h, sum.resp_p,
               sum.conn_state, sum.ending, (unsigned long long)sum.handshake_rtt_ns);
    }
    tcplife_tracker_free(t);
    return 0;
}
