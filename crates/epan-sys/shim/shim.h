/* The C that Rust cannot express: Wireshark's macros (HFILL, EXPFILL, TRY/CATCH), static inline
 * helpers, and a trampoline so that a Wireshark exception (a longjmp) never crosses a Rust frame.
 * bindgen reads this header; only the shim_* names (and a few constants) are bound. */
#ifndef EPAN_SHIM_H
#define EPAN_SHIM_H

#include <stdint.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <wiretap/wtap.h>
#include "compat.h"

/* A Rust dissector body: `ctx` is the pointer given at registration. */
typedef int (*shim_rust_dissector_fn)(void *ctx, tvbuff_t *tvb, packet_info *pinfo,
                                      proto_tree *tree, void *data);

typedef struct shim_frame {
    uint32_t num;
    int visited;
    int is_packet;   /* a packet record (not an event, a systemd journal entry...) */
    int encap;       /* WTAP_ENCAP_* of this packet */
    int64_t secs;
    int32_t nsecs;
    int has_columns; /* column text is wanted for this dissection */
    uint32_t srcport;
    uint32_t destport;
} shim_frame;

typedef struct shim_bool_pref {
    shim_pref_bool_storage value;
} shim_bool_pref;

typedef struct shim_uint_pref {
    unsigned value;
} shim_uint_pref;

/* Registration (called from Wireshark's registration phase; none of these throws). */
void shim_register_plugin(void (*register_protoinfo)(void), void (*register_handoff)(void));
void shim_set_rust_dissector(shim_rust_dissector_fn fn);
int shim_register_protocol(const char *name, const char *short_name, const char *filter_name);
int shim_register_field(int proto, const char *name, const char *abbrev, int type, int display,
                        const char *blurb);
int shim_register_subtree(void);
expert_field *shim_register_expert(int proto, const char *name, const char *summary, int group,
                                   int severity);
shim_bool_pref *shim_register_bool_pref(int proto, const char *name, const char *title,
                                        const char *description, int default_value);
int shim_bool_pref_get(const shim_bool_pref *pref);
shim_uint_pref *shim_register_uint_pref(int proto, const char *name, const char *title,
                                        const char *description, unsigned base,
                                        unsigned default_value);
unsigned shim_uint_pref_get(const shim_uint_pref *pref);
dissector_handle_t shim_register_dissector(const char *name, int proto, void *ctx);
void shim_register_postdissector(dissector_handle_t handle);
/* -1 when the table does not exist (a typo, or a protocol not built into this Wireshark). */
int shim_dissector_add_uint(const char *table, uint32_t value, dissector_handle_t handle,
                            int with_preference);
int shim_dissector_add_string(const char *table, const char *value, dissector_handle_t handle);
/* Adds the dissector behind `ctx` to the heuristic list `list` ("tcp", "udp", ...): it is offered
 * payloads there and claims one by consuming bytes. Returns 0, -1 when the list does not exist,
 * -2 when every heuristic slot (SHIM_HEUR_SLOTS) is taken. */
#define SHIM_HEUR_SLOTS 32
int shim_register_heuristic(const char *list, const char *display_name, const char *internal_name,
                            int proto, int enabled, void *ctx);
void shim_register_init_routine(void (*fn)(void));
void shim_register_cleanup_routine(void (*fn)(void));

/* Per packet. Functions returning a pointer return NULL, and those returning int return -1, when
 * Wireshark threw; the exception is kept and rethrown once the Rust dissector has returned. */
int shim_exception_pending(void);
/* Fault injection for tests: throws ReportedBoundsError inside the shim's guard. */
int shim_test_throw(void);
void shim_frame_info(packet_info *pinfo, shim_frame *out);
const uint8_t *shim_tvb_bytes(tvbuff_t *tvb, int offset, int *len);
void *shim_get_frame_data(packet_info *pinfo, int proto);
void shim_set_frame_data(packet_info *pinfo, int proto, void *value);
int shim_tree_wants(proto_tree *tree, int proto);
/* The id of the protocol whose filter name is `filter_name` ("tcp"), -1 when there is none. */
int shim_protocol_id(const char *filter_name);
/* The first top-level item of protocol `proto` in the packet's tree, NULL when there is none. */
proto_tree *shim_top_level_item(proto_tree *tree, int proto);
/* The protocol's item (with `label` as its whole text when not NULL) and its subtree. */
proto_item *shim_add_protocol(proto_tree *tree, int proto, tvbuff_t *tvb, int start, int len,
                              int ett, const char *label, proto_tree **subtree);
typedef struct shim_str_item {
    int hf;
    const char *value; /* NUL-terminated; Wireshark copies it */
} shim_str_item;
/* Several generated (computed, not from packet bytes) string items under one TRY. */
int shim_add_generated_strings(proto_tree *tree, tvbuff_t *tvb, const shim_str_item *items,
                               size_t n);
proto_item *shim_add_string(packet_info *pinfo, proto_tree *tree, int hf, tvbuff_t *tvb,
                            int start, int len, const char *value, size_t value_len,
                            int generated);
/* An item read from the packet bytes, decoded as the field's type says (ENC_* encoding). */
proto_item *shim_add_item(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                          unsigned encoding);
proto_tree *shim_item_add_subtree(proto_item *item, int ett);
/* A value for any unsigned (FT_UINT8..FT_UINT64, FT_BOOLEAN) or signed (FT_INT*) field. */
proto_item *shim_add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                          uint64_t value, int generated);
proto_item *shim_add_int(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                         int64_t value, int generated);
proto_item *shim_add_reltime(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                             int64_t secs, int32_t nsecs, int generated);
int shim_add_expert(packet_info *pinfo, proto_item *item, expert_field *ei);
int shim_col_append_info(packet_info *pinfo, const char *text);
/* `tag` before (first != 0) or after the Info column's text, with exactly one space between. */
int shim_col_add_info_tag(packet_info *pinfo, const char *tag, int first);
int shim_col_set_protocol(packet_info *pinfo, const char *text);
int shim_col_set_info(packet_info *pinfo, const char *text, size_t text_len);

/* tshark statistics ("-z CLI_STRING[,FILTER]"): the CLI string is registered with
 * register_stat_tap_ui; when tshark starts the statistic, a listener on the "frame" tap (queued
 * for every frame by the frame dissector) is registered with the filter, `packet` is called for
 * each frame that passes it and `draw` at the end of the run. Both get `ctx`. The listener needs
 * nothing from the dissection (TL_REQUIRES_NOTHING) beyond what the filter needs. A bad filter
 * ends tshark with a message, as tshark's own statistics do. */
typedef void (*shim_stat_start_fn)(void *ctx, const char *filter);
typedef void (*shim_stat_packet_fn)(void *ctx, uint32_t frame);
typedef void (*shim_stat_draw_fn)(void *ctx);
void shim_register_cli_stat(const char *cli_string, const char *title, void *ctx,
                            shim_stat_start_fn start, shim_stat_packet_fn packet,
                            shim_stat_draw_fn draw);

/* Stats trees (Wireshark's Statistics menu, and tshark's "-z ABBR,tree"): `init` when a tree is
 * (re)started, `packet` for each frame of the "frame" tap that passes the tree's filter, with
 * whether the frame was seen before (a later pass, or a GUI retap). Node names are copied. */
#include <epan/stats_tree.h>
#include <epan/srt_table.h>
typedef void (*shim_tree_init_fn)(void *ctx, stats_tree *st);
typedef void (*shim_tree_packet_fn)(void *ctx, stats_tree *st, uint32_t frame, int visited);
void shim_register_stats_tree(const char *abbr, const char *name, void *ctx,
                              shim_tree_init_fn init, shim_tree_packet_fn packet);
int shim_stats_tree_create_node(stats_tree *st, const char *name, int parent, int with_children);
int shim_stats_tree_tick(stats_tree *st, const char *name, int parent, int with_children);

/* Table statistics (Wireshark's "simple statistics" dialog, stat_tap_table_ui; tshark's
 * "-z CLI_STRING[,FILTER]" prints the same table): one table of rows whose columns the plugin
 * names and types; the Qt dialog sorts a column by its type (numbers as numbers). `start` when
 * the table is (re)started (the GUI's dialog opens, Apply, retap), `packet` for each frame of
 * the "frame" tap that passes the display filter, with the table to add rows to. The shim copies
 * strings and frees them when the table is reset or freed. */
#define SHIM_CELL_NONE 0 /* an empty cell: sorts below every value of its column */
#define SHIM_CELL_UINT 1
#define SHIM_CELL_INT 2
#define SHIM_CELL_STRING 3
#define SHIM_CELL_FLOAT 4
typedef struct shim_table_column {
    const char *name;   /* header; kept for the process */
    int kind;           /* SHIM_CELL_UINT..SHIM_CELL_FLOAT */
    int right_aligned;
    const char *format; /* printf format of one value ("%u", "%s", "%.3f"); kept */
} shim_table_column;
typedef struct shim_cell {
    int kind; /* the column's kind, or SHIM_CELL_NONE */
    uint32_t uint_value;
    int32_t int_value;
    double float_value;
    const char *string_value; /* copied */
} shim_cell;
typedef struct shim_table shim_table;
typedef void (*shim_table_start_fn)(void *ctx);
typedef void (*shim_table_packet_fn)(void *ctx, shim_table *table, uint32_t frame);
/* Returns 0, or -1 when the columns are unusable (none, or a kind out of range). */
int shim_register_table_stat(const char *cli_string, const char *title, const char *table_title,
                             const shim_table_column *columns, size_t ncolumns, void *ctx,
                             shim_table_start_fn start, shim_table_packet_fn packet);
/* Appends a row; `cells` has one cell per column, each of its column's kind or NONE. -1 when
 * they do not match the columns (nothing added). */
int shim_table_add_row(shim_table *table, const shim_cell *cells, size_t ncells);

/* A response-time table (Wireshark's Service Response Time dialog, register_srt_table; tshark's
 * "-z PROTO,srt[,FILTER]"). Its columns are Wireshark's (Index, the label column the plugin
 * names, Calls, Min/Max/Avg/Sum SRT); what the plugin gains is the dialog's per-row "Apply as
 * Filter" / "Prepare as Filter", which builds "FILTER_FIELD==INDEX". One table per protocol
 * (looked up by its filter name). `start` when the table is (re)started, `packet` for each frame
 * of the "frame" tap that passes the display filter. A row with no sample is hidden. */
#define SHIM_SRT_MAX_INDEX 16777215 /* rows are an array up to the highest index */
typedef struct shim_srt shim_srt;
typedef void (*shim_srt_start_fn)(void *ctx);
typedef void (*shim_srt_packet_fn)(void *ctx, shim_srt *table, uint32_t frame);
/* -1 when there is no protocol of that filter name. */
int shim_register_srt(const char *protocol, const char *table_name, const char *label_column,
                      const char *filter_field, void *ctx, shim_srt_start_fn start,
                      shim_srt_packet_fn packet);
/* Row `index` gets `label` (copied; a row keeps its first label) and one sample of `secs` +
 * `nsecs` (nsecs below 1e9; a negative duration has both negative), counted for the frame being
 * tapped. -1 for an index above SHIM_SRT_MAX_INDEX. */
int shim_srt_add(shim_srt *table, uint32_t index, const char *label, int64_t secs, int32_t nsecs);

#endif
