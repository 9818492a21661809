/*
 * tcplife.h: the C ABI of tcplife's TCP lifecycle engine, exported by the same shared library
 * as the Wireshark plugin (libtcplife_plugin.so, installed as tcplife.so). Usable from C
 * without Wireshark running (the library is linked against libwireshark, so it must be
 * installed, but nothing of it is called through this ABI).
 *
 *   tcplife_tracker *t = tcplife_tracker_new();
 *   tcplife_annotation a;
 *   for each frame:
 *       if (tcplife_feed_frame(t, linktype, frame_no, ts_ns, bytes, len, &a) == TCPLIFE_OK)
 *           printf("%llu %s %s\n", a.frame, a.phase, a.step);
 *   size_t n = tcplife_finish(t);
 *   for (size_t i = 0; i < n; i++) { tcplife_summary s; tcplife_summary_get(t, i, &s); ... }
 *   tcplife_tracker_free(t);
 *
 * Strings handed out are NUL-terminated, UTF-8, owned by the tracker: annotation strings stay
 * valid until the next feed call on that tracker, summary strings until the next
 * tcplife_finish / tcplife_take_finished, and all of them until tcplife_tracker_free.
 * A tracker is not thread-safe; distinct trackers are independent. No function aborts the
 * process: a bad argument or an internal error returns TCPLIFE_ERROR.
 */
#ifndef TCPLIFE_H
#define TCPLIFE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped when a struct below or a function's meaning changes. */
#define TCPLIFE_ABI_VERSION 1

/** Return codes. */
#define TCPLIFE_OK 0
#define TCPLIFE_ERROR (-1)
/** tcplife_feed_frame: the frame carries no TCP segment (ARP, UDP, a fragment, truncated...). */
#define TCPLIFE_SKIPPED 1

/** Bits of tcplife_annotation.notes (the engine's expert notes). */
#define TCPLIFE_NOTE_REFUSED               (1u << 0)
#define TCPLIFE_NOTE_RESET_BY_CLIENT       (1u << 1)
#define TCPLIFE_NOTE_RESET_BY_SERVER       (1u << 2)
#define TCPLIFE_NOTE_DATA_BEFORE_HANDSHAKE (1u << 3)
#define TCPLIFE_NOTE_RETRANSMITTED_SYN     (1u << 4)
#define TCPLIFE_NOTE_RETRANSMITTED_FIN     (1u << 5)
#define TCPLIFE_NOTE_ZERO_WINDOW           (1u << 6)
#define TCPLIFE_NOTE_HANDSHAKE_INCOMPLETE  (1u << 7)
#define TCPLIFE_NOTE_NOT_CLOSED            (1u << 8)

typedef struct tcplife_tracker tcplife_tracker;

/** One TCP segment, already sliced out of its frame. Addresses in network byte order. */
typedef struct tcplife_segment {
    uint64_t frame;         /* 1-based frame number */
    int64_t ts_ns;          /* capture time, ns since the Unix epoch */
    uint8_t ip_version;     /* 4 or 6 */
    uint8_t src[16];        /* IPv4 uses the first 4 bytes */
    uint8_t dst[16];
    uint16_t src_port;
    uint16_t dst_port;
    uint32_t seq;
    uint32_t ack;
    uint8_t flags;          /* the TCP header's flag byte: FIN 0x01 SYN 0x02 RST 0x04 ... */
    uint16_t window;        /* raw, unscaled */
    uint32_t payload_len;   /* TCP payload length from the IP header */
    uint32_t ip_len;        /* IP packet length, header included */
} tcplife_segment;

/** What the engine says about one packet: the columns of `tcplife packets --format tsv`. */
typedef struct tcplife_annotation {
    uint64_t frame;
    uint64_t conn_id;            /* 1-based, in order of first packet */
    const char *role;            /* "client" / "server" */
    const char *event;           /* "SYN", "data", "final ACK", ... */
    const char *phase;           /* "handshake", "data transfer", "teardown", "reset", "closed" */
    const char *step;            /* "1/3", "2+3/4", or "" */
    const char *client_state;    /* RFC 9293 name: "SYN-SENT", "ESTABLISHED", ... */
    const char *server_state;
    const char *conn_state;      /* Zeek: "S0", "SF", "REJ", ... */
    const char *history;         /* Zeek's history string */
    uint8_t has_handshake_rtt;
    uint64_t handshake_rtt_ns;   /* valid when has_handshake_rtt */
    uint32_t notes;              /* TCPLIFE_NOTE_* bits */
} tcplife_annotation;

/** One finished connection: Zeek's conn.log fields plus tcplife's own. */
typedef struct tcplife_summary {
    uint64_t conn_id;
    const char *uid;
    int64_t ts_ns;
    const char *orig_h;          /* textual address */
    uint16_t orig_p;
    const char *resp_h;
    uint16_t resp_p;
    uint64_t duration_ns;
    uint64_t orig_bytes;
    uint64_t resp_bytes;
    const char *conn_state;
    uint64_t missed_bytes;
    const char *history;
    uint64_t orig_pkts;
    uint64_t orig_ip_bytes;
    uint64_t resp_pkts;
    uint64_t resp_ip_bytes;
    const char *ending;          /* "closed normally", "refused", "reset by client", ... */
    const char *first_closer;    /* "client", "server" or "" */
    const char *client_state;
    const char *server_state;
    uint8_t has_handshake_rtt;
    uint64_t handshake_rtt_ns;
    uint64_t first_frame;
    uint64_t last_frame;
    const char *end_reason;      /* "end of capture", "idle", "closed", "ports reused" */
} tcplife_summary;

/** TCPLIFE_ABI_VERSION of the library (compare with the header's). */
uint32_t tcplife_abi_version(void);
/** The library's version, e.g. "0.1.0". Static. */
const char *tcplife_version(void);

/** A tracker with the default settings (idle timeout 300 s, close linger 5 s). NULL on error. */
tcplife_tracker *tcplife_tracker_new(void);
/** Frees the tracker and every string it handed out. NULL is accepted. */
void tcplife_tracker_free(tcplife_tracker *tracker);

/** Feeds one segment; fills *out. TCPLIFE_OK or TCPLIFE_ERROR. */
int tcplife_feed_segment(tcplife_tracker *tracker, const tcplife_segment *seg,
                         tcplife_annotation *out);
/** Slices a raw frame (pcap LINKTYPE_* number: 1 Ethernet, 0 null, 101 raw IP, 113 Linux
 * cooked...) and feeds its segment. TCPLIFE_OK, TCPLIFE_SKIPPED or TCPLIFE_ERROR. */
int tcplife_feed_frame(tcplife_tracker *tracker, uint32_t linktype, uint64_t frame,
                       int64_t ts_ns, const uint8_t *data, size_t len, tcplife_annotation *out);

/** Collects the connections that finished since the last call (closed and lingered, idle, or
 * replaced); returns how many, readable with tcplife_summary_get. (size_t)-1 on error. */
size_t tcplife_take_finished(tcplife_tracker *tracker);
/** End of capture: collects every connection still tracked (plus any finished ones not yet
 * taken), in first-packet order; returns how many. (size_t)-1 on error. */
size_t tcplife_finish(tcplife_tracker *tracker);
/** Reads summary `index` of the last collection. TCPLIFE_OK or TCPLIFE_ERROR. */
int tcplife_summary_get(const tcplife_tracker *tracker, size_t index, tcplife_summary *out);

/** Name of one TCPLIFE_NOTE_* bit ("refused", "not_closed"...); NULL if not exactly one known
 * bit. Static. */
const char *tcplife_note_name(uint32_t bit);

#ifdef __cplusplus
}
#endif

#endif
