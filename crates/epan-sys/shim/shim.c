/* See shim.h. Every Wireshark call that can throw runs inside TRY here, so a longjmp only ever
 * unwinds C frames; what was thrown is kept and rethrown by the trampoline once Rust returned. */
#include "shim.h"

#include <string.h>
#include <epan/exceptions.h>
#include <epan/column-utils.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>
#include <epan/stats_tree_priv.h>

static shim_rust_dissector_fn rust_dissector;

static _Thread_local unsigned long pending_code;
static _Thread_local int pending_has_message;
static _Thread_local char pending_message[512];

#define SHIM_GUARDED(stmt)                                                      \
    do {                                                                        \
        TRY { stmt; }                                                           \
        CATCH_ALL {                                                             \
            const char *m = GET_MESSAGE;                                        \
            pending_code = EXCEPT_CODE;                                         \
            pending_has_message = m != NULL;                                    \
            if (m) g_strlcpy(pending_message, m, sizeof pending_message);       \
        }                                                                       \
        ENDTRY;                                                                 \
    } while (0)

int shim_exception_pending(void) { return pending_code != 0; }

int shim_test_throw(void)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED(THROW(ReportedBoundsError));
    return pending_code ? -1 : 0;
}

/* The tree of the dissection Rust is in: column writes take only pinfo, yet the column fields
 * they keep in step (compat_sync_column_fields) live in the tree. Saved and restored, for a
 * Rust dissector that calls another through Wireshark. */
static _Thread_local proto_tree *current_tree;

static int trampoline(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data, void *ctx)
{
    pending_code = 0;
    proto_tree *outer_tree = current_tree;
    current_tree = tree;
    int consumed = rust_dissector(ctx, tvb, pinfo, tree, data);
    current_tree = outer_tree;
    if (pending_code != 0) {
        unsigned long code = pending_code;
        pending_code = 0;
        if (pending_has_message)
            THROW_FORMATTED(code, "%s", pending_message);
        THROW(code);
    }
    return consumed;
}

void shim_set_rust_dissector(shim_rust_dissector_fn fn) { rust_dissector = fn; }

void shim_register_plugin(void (*register_protoinfo)(void), void (*register_handoff)(void))
{
    /* Wireshark keeps the pointer for the whole process. */
    proto_plugin *plug = g_new0(proto_plugin, 1);
    plug->register_protoinfo = register_protoinfo;
    plug->register_handoff = register_handoff;
    proto_register_plugin(plug);
}

int shim_register_protocol(const char *name, const char *short_name, const char *filter_name)
{
    return proto_register_protocol(name, short_name, filter_name);
}

int shim_register_field(int proto, const char *name, const char *abbrev, int type, int display,
                        const char *blurb)
{
    static const header_field_info blank = {NULL, NULL, FT_NONE, BASE_NONE, NULL, 0, NULL, HFILL};
    hf_register_info *hf = g_new0(hf_register_info, 1);
    int *id = g_new(int, 1);
    *id = -1;
    hf->p_id = id;
    hf->hfinfo = blank;
    hf->hfinfo.name = name;
    hf->hfinfo.abbrev = abbrev;
    hf->hfinfo.type = (enum ftenum)type;
    hf->hfinfo.display = display;
    hf->hfinfo.blurb = blurb;
    proto_register_field_array(proto, hf, 1);
    return *id;
}

int shim_register_subtree(void)
{
    gint *ett = g_new(gint, 1);
    *ett = -1;
    gint *arr[1] = {ett};
    proto_register_subtree_array(arr, 1);
    return *ett;
}

expert_field *shim_register_expert(int proto, const char *name, const char *summary, int group,
                                   int severity)
{
    static const ei_register_info blank = {NULL, {NULL, 0, 0, NULL, EXPFILL}};
    ei_register_info *ei = g_new0(ei_register_info, 1);
    expert_field *id = g_new(expert_field, 1);
    id->ei = -1;
    id->hf = -1;
    *ei = blank;
    ei->ids = id;
    ei->eiinfo.name = name;
    ei->eiinfo.group = group;
    ei->eiinfo.severity = severity;
    ei->eiinfo.summary = summary;
    expert_register_field_array(expert_register_protocol(proto), ei, 1);
    return id;
}

/* prefs_register_protocol may be called once per protocol: remember each protocol's module.
 * Registration is rare and happens once, so a linear search over a growing array is enough. */
static struct pref_module { int proto; module_t *module; } *pref_modules;
static size_t n_pref_modules;

static module_t *pref_module(int proto)
{
    for (size_t i = 0; i < n_pref_modules; i++)
        if (pref_modules[i].proto == proto)
            return pref_modules[i].module;
    module_t *module = prefs_register_protocol(proto, NULL);
    pref_modules = g_renew(struct pref_module, pref_modules, n_pref_modules + 1);
    pref_modules[n_pref_modules].proto = proto;
    pref_modules[n_pref_modules].module = module;
    n_pref_modules++;
    return module;
}

shim_bool_pref *shim_register_bool_pref(int proto, const char *name, const char *title,
                                        const char *description, int default_value)
{
    module_t *module = pref_module(proto);
    if (!module)
        return NULL;
    shim_bool_pref *pref = g_new0(shim_bool_pref, 1);
    pref->value = default_value != 0;
    prefs_register_bool_preference(module, name, title, description, &pref->value);
    return pref;
}

shim_uint_pref *shim_register_uint_pref(int proto, const char *name, const char *title,
                                        const char *description, unsigned base,
                                        unsigned default_value)
{
    module_t *module = pref_module(proto);
    if (!module)
        return NULL;
    shim_uint_pref *pref = g_new0(shim_uint_pref, 1);
    pref->value = default_value;
    prefs_register_uint_preference(module, name, title, description, base, &pref->value);
    return pref;
}

unsigned shim_uint_pref_get(const shim_uint_pref *pref) { return pref ? pref->value : 0; }

int shim_bool_pref_get(const shim_bool_pref *pref) { return pref && pref->value; }

dissector_handle_t shim_register_dissector(const char *name, int proto, void *ctx)
{
    return register_dissector_with_data(name, trampoline, proto, ctx);
}

void shim_register_postdissector(dissector_handle_t handle) { register_postdissector(handle); }

int shim_dissector_add_uint(const char *table, uint32_t value, dissector_handle_t handle,
                            int with_preference)
{
    if (!find_dissector_table(table))
        return -1;
    if (with_preference)
        dissector_add_uint_with_preference(table, value, handle);
    else
        dissector_add_uint(table, value, handle);
    return 0;
}

/* heur_dissector_t carries no user data, so each registered heuristic gets its own C entry
 * point: slot n's function calls the Rust dissector with heur_ctx[n]. */
static void *heur_ctx[SHIM_HEUR_SLOTS];
static int n_heur;

static shim_heur_result heur_call(int slot, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                                  void *data)
{
    return trampoline(tvb, pinfo, tree, data, heur_ctx[slot]) > 0;
}

#define SHIM_HEUR_SLOT(n)                                                                   \
    static shim_heur_result heur_slot_##n(tvbuff_t *tvb, packet_info *pinfo,                \
                                          proto_tree *tree, void *data)                     \
    {                                                                                       \
        return heur_call(n, tvb, pinfo, tree, data);                                        \
    }
#define SHIM_HEUR_SLOTS8(a, b, c, d, e, f, g, h)                                            \
    SHIM_HEUR_SLOT(a) SHIM_HEUR_SLOT(b) SHIM_HEUR_SLOT(c) SHIM_HEUR_SLOT(d)                 \
    SHIM_HEUR_SLOT(e) SHIM_HEUR_SLOT(f) SHIM_HEUR_SLOT(g) SHIM_HEUR_SLOT(h)
SHIM_HEUR_SLOTS8(0, 1, 2, 3, 4, 5, 6, 7)
SHIM_HEUR_SLOTS8(8, 9, 10, 11, 12, 13, 14, 15)
SHIM_HEUR_SLOTS8(16, 17, 18, 19, 20, 21, 22, 23)
SHIM_HEUR_SLOTS8(24, 25, 26, 27, 28, 29, 30, 31)

static const heur_dissector_t heur_slots[SHIM_HEUR_SLOTS] = {
    heur_slot_0,  heur_slot_1,  heur_slot_2,  heur_slot_3,  heur_slot_4,  heur_slot_5,
    heur_slot_6,  heur_slot_7,  heur_slot_8,  heur_slot_9,  heur_slot_10, heur_slot_11,
    heur_slot_12, heur_slot_13, heur_slot_14, heur_slot_15, heur_slot_16, heur_slot_17,
    heur_slot_18, heur_slot_19, heur_slot_20, heur_slot_21, heur_slot_22, heur_slot_23,
    heur_slot_24, heur_slot_25, heur_slot_26, heur_slot_27, heur_slot_28, heur_slot_29,
    heur_slot_30, heur_slot_31,
};

int shim_register_heuristic(const char *list, const char *display_name, const char *internal_name,
                            int proto, int enabled, void *ctx)
{
    if (!has_heur_dissector_list(list))
        return -1;
    if (n_heur >= SHIM_HEUR_SLOTS)
        return -2;
    heur_ctx[n_heur] = ctx;
    heur_dissector_add(list, heur_slots[n_heur], display_name, internal_name, proto,
                       enabled ? HEURISTIC_ENABLE : HEURISTIC_DISABLE);
    n_heur++;
    return 0;
}

int shim_dissector_add_string(const char *table, const char *value, dissector_handle_t handle)
{
    if (!find_dissector_table(table))
        return -1;
    dissector_add_string(table, value, handle);
    return 0;
}

void shim_register_init_routine(void (*fn)(void)) { register_init_routine(fn); }
void shim_register_cleanup_routine(void (*fn)(void)) { register_cleanup_routine(fn); }

void shim_frame_info(packet_info *pinfo, shim_frame *out)
{
    memset(out, 0, sizeof *out);
    out->num = pinfo->num;
    out->visited = pinfo->fd ? PINFO_FD_VISITED(pinfo) : 0;
    out->is_packet = pinfo->rec != NULL && pinfo->rec->rec_type == REC_TYPE_PACKET;
    out->encap = out->is_packet ? pinfo->rec->rec_header.packet_header.pkt_encap : -1;
    out->secs = (int64_t)pinfo->abs_ts.secs;
    out->nsecs = pinfo->abs_ts.nsecs;
    out->has_columns = pinfo->cinfo != NULL;
    out->srcport = pinfo->srcport;
    out->destport = pinfo->destport;
}

const uint8_t *shim_tvb_bytes(tvbuff_t *tvb, int offset, int *len)
{
    static const uint8_t empty[1];
    const uint8_t *volatile ptr = NULL;
    volatile int n = 0;
    *len = 0;
    if (pending_code)
        return NULL;
    SHIM_GUARDED({
        n = tvb_captured_length_remaining(tvb, offset);
        ptr = n > 0 ? tvb_get_ptr(tvb, offset, n) : empty;
    });
    if (pending_code)
        return NULL;
    *len = n > 0 ? n : 0;
    return ptr;
}

void *shim_get_frame_data(packet_info *pinfo, int proto)
{
    return p_get_proto_data(wmem_file_scope(), pinfo, proto, 0);
}

void shim_set_frame_data(packet_info *pinfo, int proto, void *value)
{
    p_add_proto_data(wmem_file_scope(), pinfo, proto, 0, value);
}

int shim_tree_wants(proto_tree *tree, int proto)
{
    return tree != NULL && proto_field_is_referenced(tree, proto);
}

int shim_protocol_id(const char *filter_name)
{
    return proto_get_id_by_filter_name(filter_name);
}

proto_tree *shim_top_level_item(proto_tree *tree, int proto)
{
    if (tree == NULL || proto < 0)
        return NULL;
    for (proto_node *node = ((proto_node *)tree)->first_child; node; node = node->next) {
        field_info *fi = PNODE_FINFO(node);
        if (fi && fi->hfinfo && fi->hfinfo->id == proto)
            return (proto_tree *)node;
    }
    return NULL;
}

proto_item *shim_add_protocol(proto_tree *tree, int proto, tvbuff_t *tvb, int start, int len,
                              int ett, const char *label, proto_tree **subtree)
{
    proto_item *volatile item = NULL;
    *subtree = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED({
        if (label)
            item = proto_tree_add_protocol_format(tree, proto, tvb, start, len, "%s", label);
        else
            item = proto_tree_add_item(tree, proto, tvb, start, len, ENC_NA);
        *subtree = proto_item_add_subtree(item, ett);
    });
    return pending_code ? NULL : item;
}

int shim_add_generated_strings(proto_tree *tree, tvbuff_t *tvb, const shim_str_item *items,
                               size_t n)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED({
        for (size_t i = 0; i < n; i++)
            proto_item_set_generated(
                proto_tree_add_string(tree, items[i].hf, tvb, 0, 0, items[i].value));
    });
    return pending_code ? -1 : 0;
}

proto_item *shim_add_string(packet_info *pinfo, proto_tree *tree, int hf, tvbuff_t *tvb,
                            int start, int len, const char *value, size_t value_len,
                            int generated)
{
    proto_item *volatile item = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED({
        const char *copy = wmem_strndup(pinfo->pool, value, value_len);
        item = proto_tree_add_string(tree, hf, tvb, start, len, copy);
        if (generated)
            proto_item_set_generated(item);
    });
    return pending_code ? NULL : item;
}

proto_item *shim_add_item(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                          unsigned encoding)
{
    proto_item *volatile item = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED(item = proto_tree_add_item(tree, hf, tvb, start, len, encoding));
    return pending_code ? NULL : item;
}

proto_tree *shim_item_add_subtree(proto_item *item, int ett)
{
    proto_tree *volatile sub = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED(sub = proto_item_add_subtree(item, ett));
    return pending_code ? NULL : sub;
}

proto_item *shim_add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                          uint64_t value, int generated)
{
    proto_item *volatile item = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED({
        switch (proto_registrar_get_ftype(hf)) {
        case FT_UINT64:
        case FT_UINT56:
        case FT_UINT48:
        case FT_UINT40:
            item = proto_tree_add_uint64(tree, hf, tvb, start, len, value);
            break;
        case FT_BOOLEAN:
            item = proto_tree_add_boolean(tree, hf, tvb, start, len, (uint32_t)(value != 0));
            break;
        default:
            item = proto_tree_add_uint(tree, hf, tvb, start, len, (uint32_t)value);
        }
        if (generated)
            proto_item_set_generated(item);
    });
    return pending_code ? NULL : item;
}

proto_item *shim_add_int(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                         int64_t value, int generated)
{
    proto_item *volatile item = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED({
        switch (proto_registrar_get_ftype(hf)) {
        case FT_INT64:
        case FT_INT56:
        case FT_INT48:
        case FT_INT40:
            item = proto_tree_add_int64(tree, hf, tvb, start, len, value);
            break;
        default:
            item = proto_tree_add_int(tree, hf, tvb, start, len, (int32_t)value);
        }
        if (generated)
            proto_item_set_generated(item);
    });
    return pending_code ? NULL : item;
}

proto_item *shim_add_reltime(proto_tree *tree, int hf, tvbuff_t *tvb, int start, int len,
                             int64_t secs, int32_t nsecs, int generated)
{
    proto_item *volatile item = NULL;
    if (pending_code)
        return NULL;
    SHIM_GUARDED({
        nstime_t t;
        t.secs = (time_t)secs;
        t.nsecs = nsecs;
        item = proto_tree_add_time(tree, hf, tvb, start, len, &t);
        if (generated)
            proto_item_set_generated(item);
    });
    return pending_code ? NULL : item;
}

int shim_add_expert(packet_info *pinfo, proto_item *item, expert_field *ei)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED(expert_add_info(pinfo, item, ei));
    return pending_code ? -1 : 0;
}

int shim_col_append_info(packet_info *pinfo, const char *text)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED({
        col_append_str(pinfo->cinfo, COL_INFO, text);
        compat_sync_column_fields(pinfo, current_tree, COL_INFO);
    });
    return pending_code ? -1 : 0;
}

int shim_col_add_info_tag(packet_info *pinfo, const char *tag, int first)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED({
        const char *now = col_get_text(pinfo->cinfo, COL_INFO);
        size_t len = now ? strlen(now) : 0;
        if (len == 0)
            col_add_str(pinfo->cinfo, COL_INFO, tag);
        else if (first)
            col_prepend_fstr(pinfo->cinfo, COL_INFO, "%s ", tag);
        else if (now[len - 1] == ' ')
            /* Some dissectors (HTTP) leave a trailing space: no second one. */
            col_append_str(pinfo->cinfo, COL_INFO, tag);
        else
            col_append_fstr(pinfo->cinfo, COL_INFO, " %s", tag);
        compat_sync_column_fields(pinfo, current_tree, COL_INFO);
    });
    return pending_code ? -1 : 0;
}

int shim_col_set_protocol(packet_info *pinfo, const char *text)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED({
        col_set_str(pinfo->cinfo, COL_PROTOCOL, text);
        compat_sync_column_fields(pinfo, current_tree, COL_PROTOCOL);
    });
    return pending_code ? -1 : 0;
}

int shim_col_set_info(packet_info *pinfo, const char *text, size_t text_len)
{
    if (pending_code)
        return -1;
    SHIM_GUARDED({
        col_add_str(pinfo->cinfo, COL_INFO, wmem_strndup(pinfo->pool, text, text_len));
        compat_sync_column_fields(pinfo, current_tree, COL_INFO);
    });
    return pending_code ? -1 : 0;
}

/* One registered statistic; Wireshark keeps the stat_tap_ui for the process. */
typedef struct shim_cli_stat {
    stat_tap_ui ui;
    size_t cli_len;
    void *ctx;
    shim_stat_start_fn start;
    shim_stat_packet_fn packet;
    shim_stat_draw_fn draw;
} shim_cli_stat;

static tap_packet_status cli_stat_packet(void *tapdata, packet_info *pinfo,
                                         epan_dissect_t *edt _U_, const void *data _U_,
                                         tap_flags_t flags _U_)
{
    shim_cli_stat *st = (shim_cli_stat *)tapdata;
    st->packet(st->ctx, pinfo->num);
    return TAP_PACKET_DONT_REDRAW;
}

static void cli_stat_draw(void *tapdata)
{
    shim_cli_stat *st = (shim_cli_stat *)tapdata;
    /* tshark prints through C stdio, Rust through its own buffer: keep them in order. */
    fflush(stdout);
    st->draw(st->ctx);
}

static shim_stat_init_result cli_stat_init(const char *opt_arg, void *userdata)
{
    shim_cli_stat *st = (shim_cli_stat *)userdata;
    const char *filter = NULL;
    if (opt_arg && strlen(opt_arg) > st->cli_len && opt_arg[st->cli_len] == ',')
        filter = opt_arg + st->cli_len + 1;
    st->start(st->ctx, filter);
    GString *err = register_tap_listener("frame", st, filter, TL_REQUIRES_NOTHING, NULL,
                                         cli_stat_packet, cli_stat_draw, NULL);
    if (err) {
        fprintf(stderr, "tshark: Couldn't register %s tap: %s\n", st->ui.cli_string, err->str);
        g_string_free(err, TRUE);
        SHIM_STAT_INIT_DONE(false);
    }
    SHIM_STAT_INIT_DONE(true);
}

void shim_register_cli_stat(const char *cli_string, const char *title, void *ctx,
                            shim_stat_start_fn start, shim_stat_packet_fn packet,
                            shim_stat_draw_fn draw)
{
    shim_cli_stat *st = g_new0(shim_cli_stat, 1);
    st->ui.group = REGISTER_STAT_GROUP_GENERIC;
    st->ui.title = title;
    st->ui.cli_string = cli_string;
    st->ui.tap_init_cb = cli_stat_init;
    st->ui.nparams = 0;
    st->ui.params = NULL;
    st->cli_len = strlen(cli_string);
    st->ctx = ctx;
    st->start = start;
    st->packet = packet;
    st->draw = draw;
    register_stat_tap_ui(&st->ui, st);
}

/* stats_tree callbacks carry no user pointer: each registration is found again by the tree's
 * abbreviation (st->cfg->abbr). Trees are registered once and are few. */
static struct shim_tree_reg {
    const char *abbr;
    void *ctx;
    shim_tree_init_fn init;
    shim_tree_packet_fn packet;
} *tree_regs;
static size_t n_tree_regs;

static struct shim_tree_reg *tree_reg(stats_tree *st)
{
    if (!st || !st->cfg || !st->cfg->abbr)
        return NULL;
    for (size_t i = 0; i < n_tree_regs; i++)
        if (strcmp(tree_regs[i].abbr, st->cfg->abbr) == 0)
            return &tree_regs[i];
    return NULL;
}

static void tree_init(stats_tree *st)
{
    struct shim_tree_reg *r = tree_reg(st);
    if (r)
        r->init(r->ctx, st);
}

static tap_packet_status tree_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_,
                                     const void *data _U_, tap_flags_t flags _U_)
{
    struct shim_tree_reg *r = tree_reg(st);
    if (!r)
        return TAP_PACKET_DONT_REDRAW;
    r->packet(r->ctx, st, pinfo->num, pinfo->fd ? PINFO_FD_VISITED(pinfo) : 0);
    return TAP_PACKET_REDRAW;
}

void shim_register_stats_tree(const char *abbr, const char *name, void *ctx,
                              shim_tree_init_fn init, shim_tree_packet_fn packet)
{
    tree_regs = g_renew(struct shim_tree_reg, tree_regs, n_tree_regs + 1);
    tree_regs[n_tree_regs].abbr = abbr;
    tree_regs[n_tree_regs].ctx = ctx;
    tree_regs[n_tree_regs].init = init;
    tree_regs[n_tree_regs].packet = packet;
    n_tree_regs++;
    stats_tree_register_plugin("frame", abbr, name, 0, tree_packet, tree_init, NULL);
}

int shim_stats_tree_create_node(stats_tree *st, const char *name, int parent, int with_children)
{
    return stats_tree_create_node(st, name, parent, STAT_DT_INT, with_children != 0);
}

int shim_stats_tree_tick(stats_tree *st, const char *name, int parent, int with_children)
{
    return tick_stat_node(st, name, parent, with_children != 0);
}

/* One registered table statistic. `ui` comes first: the tap data Wireshark hands the packet
 * callback (a stat_data_t, from the GUI's dialog and from tshark alike) points at the registered
 * ui, and so at this. Wireshark keeps the ui for the process. */
struct shim_table {
    stat_tap_table_ui ui;
    const char *table_title;
    size_t capacity; /* rows allocated in the table's `elements` */
    void *ctx;
    shim_table_start_fn start;
    shim_table_packet_fn packet;
};

static stat_tap_table *table_of(shim_table *st)
{
    if (!st->ui.tables || st->ui.tables->len == 0)
        return NULL;
    return g_array_index(st->ui.tables, stat_tap_table *, 0);
}

static void table_free_item(stat_tap_table *table _U_, guint row _U_, guint column _U_,
                            stat_tap_table_item_type *field)
{
    if (field->type == TABLE_ITEM_STRING) {
        g_free((char *)field->value.string_value);
        field->value.string_value = NULL;
    }
}

/* Rows are dropped, not zeroed: a connection table has no fixed rows to keep. Called by
 * Wireshark's reset_stat_table (the GUI's retap) and by table_init. */
static void table_reset(stat_tap_table *table)
{
    for (guint row = 0; row < table->num_elements; row++) {
        for (guint col = 0; col < table->num_fields; col++)
            table_free_item(table, row, col, &table->elements[row][col]);
        g_free(table->elements[row]);
    }
    g_free(table->elements);
    table->elements = NULL;
    table->num_elements = 0;
}

static void table_init(stat_tap_table_ui *ui)
{
    shim_table *st = (shim_table *)ui;
    stat_tap_table *table = table_of(st);
    if (table) {
        table_reset(table);
    } else {
        /* free_stat_tables (the GUI's dialog closing) freed the last one, or none existed. */
        table = stat_tap_init_table(st->table_title, (int)ui->nfields, 0, NULL);
        stat_tap_add_table(ui, table);
    }
    st->capacity = 0;
    st->start(st->ctx);
}

static tap_packet_status table_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                      const void *data _U_, tap_flags_t flags _U_)
{
    stat_data_t *sd = (stat_data_t *)tapdata;
    shim_table *st = (shim_table *)sd->stat_tap_data;
    guint before = table_of(st) ? table_of(st)->num_elements : 0;
    st->packet(st->ctx, st, pinfo->num);
    return table_of(st) && table_of(st)->num_elements != before ? TAP_PACKET_REDRAW
                                                                 : TAP_PACKET_DONT_REDRAW;
}

static stat_tap_table_item_enum table_item_kind(int kind)
{
    switch (kind) {
    case SHIM_CELL_UINT: return TABLE_ITEM_UINT;
    case SHIM_CELL_INT: return TABLE_ITEM_INT;
    case SHIM_CELL_STRING: return TABLE_ITEM_STRING;
    case SHIM_CELL_FLOAT: return TABLE_ITEM_FLOAT;
    default: return TABLE_ITEM_NONE;
    }
}

int shim_register_table_stat(const char *cli_string, const char *title, const char *table_title,
                             const shim_table_column *columns, size_t ncolumns, void *ctx,
                             shim_table_start_fn start, shim_table_packet_fn packet)
{
    if (ncolumns == 0)
        return -1;
    stat_tap_table_item *fields = g_new0(stat_tap_table_item, ncolumns);
    for (size_t i = 0; i < ncolumns; i++) {
        stat_tap_table_item_enum kind = table_item_kind(columns[i].kind);
        if (kind == TABLE_ITEM_NONE || !columns[i].name || !columns[i].format) {
            g_free(fields);
            return -1;
        }
        fields[i].type = kind;
        fields[i].align = columns[i].right_aligned ? TAP_ALIGN_RIGHT : TAP_ALIGN_LEFT;
        fields[i].column_name = columns[i].name;
        fields[i].field_format = columns[i].format;
    }
    shim_table *st = g_new0(shim_table, 1);
    /* The group the Qt main window lists at the foot of its Statistics menu, with the plugins'
     * stats trees; it has no place for REGISTER_STAT_GROUP_GENERIC. */
    st->ui.group = REGISTER_PACKET_STAT_GROUP_UNSORTED;
    st->ui.title = title;
    st->ui.tap_name = "frame";
    st->ui.cli_string = cli_string;
    st->ui.stat_tap_init_cb = table_init;
    st->ui.packet_func = table_packet;
    st->ui.stat_tap_reset_table_cb = table_reset;
    st->ui.stat_tap_free_table_item_cb = table_free_item;
    st->ui.nfields = ncolumns;
    st->ui.fields = fields;
    st->table_title = table_title;
    st->ctx = ctx;
    st->start = start;
    st->packet = packet;
    register_stat_tap_table_ui(&st->ui);
    return 0;
}

int shim_table_add_row(shim_table *st, const shim_cell *cells, size_t ncells)
{
    stat_tap_table *table = table_of(st);
    if (!table || ncells != table->num_fields)
        return -1;
    for (size_t i = 0; i < ncells; i++) {
        stat_tap_table_item_enum kind = table_item_kind(cells[i].kind);
        if (kind != TABLE_ITEM_NONE && kind != st->ui.fields[i].type)
            return -1;
        if (kind == TABLE_ITEM_STRING && !cells[i].string_value)
            return -1;
    }
    if (!table->elements)
        st->capacity = 0; /* table_reset dropped the rows */
    if (table->num_elements == st->capacity) {
        /* free_stat_tables frees `elements` and its first num_elements rows: spare capacity
         * past them is plain array space. */
        size_t capacity = st->capacity ? st->capacity * 2 : 64;
        table->elements = g_renew(stat_tap_table_item_type *, table->elements, capacity);
        st->capacity = capacity;
    }
    stat_tap_table_item_type *row = g_new0(stat_tap_table_item_type, ncells);
    for (size_t i = 0; i < ncells; i++) {
        row[i].type = table_item_kind(cells[i].kind);
        switch (row[i].type) {
        case TABLE_ITEM_UINT: row[i].value.uint_value = cells[i].uint_value; break;
        case TABLE_ITEM_INT: row[i].value.int_value = cells[i].int_value; break;
        case TABLE_ITEM_STRING: row[i].value.string_value = g_strdup(cells[i].string_value); break;
        case TABLE_ITEM_FLOAT: row[i].value.float_value = cells[i].float_value; break;
        default:
            /* An empty cell. The GUI compares two rows by the kind of the row on the left, so a
             * value next to an empty cell reads the empty cell's value as its column's kind:
             * make that the column's lowest, and the empty cell sorts first either way. */
            switch (st->ui.fields[i].type) {
            case TABLE_ITEM_INT: row[i].value.int_value = G_MININT32; break;
            case TABLE_ITEM_FLOAT: row[i].value.float_value = -G_MAXDOUBLE; break;
            default: break; /* 0, and NULL (g_strcmp0 puts it first) */
            }
            break;
        }
    }
    table->elements[table->num_elements++] = row;
    return 0;
}

/* One registered response-time table: the table's table_specific_data points here, which is
 * how the packet callback (which gets only the table array) finds its context. */
typedef struct shim_srt_reg {
    int proto;
    const char *table_name;
    const char *label_column;
    const char *filter_field;
    void *ctx;
    shim_srt_start_fn start;
    shim_srt_packet_fn packet;
} shim_srt_reg;

struct shim_srt {
    srt_stat_table *table;
    packet_info *pinfo;
    int changed;
};

/* Few registrations (one per protocol at most): a list searched by protocol id. */
static shim_srt_reg **srt_regs;
static size_t n_srt_regs;

static void srt_init(struct register_srt *srt, GArray *srt_array)
{
    int proto = get_srt_proto_id(srt);
    for (size_t i = 0; i < n_srt_regs; i++) {
        shim_srt_reg *r = srt_regs[i];
        if (r->proto != proto)
            continue;
        init_srt_table(r->table_name, NULL, srt_array, 0, r->label_column, r->filter_field, r);
        r->start(r->ctx);
        return;
    }
}

static tap_packet_status srt_packet(void *pss, packet_info *pinfo, epan_dissect_t *edt _U_,
                                    const void *prv _U_, tap_flags_t flags _U_)
{
    srt_data_t *data = (srt_data_t *)pss;
    if (!data || !data->srt_array || data->srt_array->len == 0)
        return TAP_PACKET_DONT_REDRAW;
    srt_stat_table *table = g_array_index(data->srt_array, srt_stat_table *, 0);
    shim_srt_reg *r = (shim_srt_reg *)table->table_specific_data;
    if (!r)
        return TAP_PACKET_DONT_REDRAW;
    shim_srt s = {table, pinfo, 0};
    r->packet(r->ctx, &s, pinfo->num);
    return s.changed ? TAP_PACKET_REDRAW : TAP_PACKET_DONT_REDRAW;
}

int shim_register_srt(const char *protocol, const char *table_name, const char *label_column,
                      const char *filter_field, void *ctx, shim_srt_start_fn start,
                      shim_srt_packet_fn packet)
{
    int proto = proto_get_id_by_filter_name(protocol);
    if (proto < 0)
        return -1;
    shim_srt_reg *r = g_new0(shim_srt_reg, 1);
    r->proto = proto;
    r->table_name = table_name;
    r->label_column = label_column;
    r->filter_field = filter_field;
    r->ctx = ctx;
    r->start = start;
    r->packet = packet;
    srt_regs = g_renew(shim_srt_reg *, srt_regs, n_srt_regs + 1);
    srt_regs[n_srt_regs++] = r;
    register_srt_table(proto, "frame", 1, srt_packet, srt_init, NULL);
    return 0;
}

int shim_srt_add(shim_srt *s, uint32_t index, const char *label, int64_t secs, int32_t nsecs)
{
    if (index > SHIM_SRT_MAX_INDEX)
        return -1;
    int i = (int)index;
    if (i >= s->table->num_procs || s->table->procedures[i].procedure == NULL)
        init_srt_table_row(s->table, i, label);
    nstime_t delta;
    delta.secs = (time_t)secs;
    delta.nsecs = nsecs;
    time_stat_update(&s->table->procedures[i].stats, &delta, s->pinfo);
    s->changed = 1;
    return 0;
}
