/* Every difference between the Wireshark releases epan-sys builds against (4.0, 4.2, 4.4, 4.6)
 * that the C side sees lives here; the Rust side's counterpart is the cfgs build.rs emits, read
 * only in src/lib.rs. Anything version-specific elsewhere is a bug. */
#ifndef EPAN_SHIM_COMPAT_H
#define EPAN_SHIM_COMPAT_H

#include <stdbool.h>
#include <stdlib.h>
#include <ws_version.h>

#define SHIM_WS_AT_LEAST(maj, min) \
    (WIRESHARK_VERSION_MAJOR > (maj) || \
     (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/* 4.4 moved boolean preferences from gboolean to C99 bool storage. */
#if SHIM_WS_AT_LEAST(4, 4)
typedef bool shim_pref_bool_storage;
#else
#include <glib.h>
typedef gboolean shim_pref_bool_storage;
#endif

/* 4.2 added plugin_describe() and the WS_PLUGIN_DESC_* flags it returns. */
#if SHIM_WS_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
#endif

/* Newer releases declare heur_dissector_t as returning C99 bool instead of gboolean; a
 * trampoline of the other type is an incompatible pointer (an error for GCC 14). Take the
 * return type from the header's own typedef rather than from a version number. */
#include <epan/packet.h>
typedef __typeof__(((heur_dissector_t)0)(0, 0, 0, 0)) shim_heur_result;

/* 4.6: a statistic's init callback (stat_tap_ui.tap_init_cb) says whether it started; on false
 * tshark stops with an error itself. Before, it returned nothing and had to exit on failure. */
#if SHIM_WS_AT_LEAST(4, 6)
typedef bool shim_stat_init_result;
#define SHIM_STAT_INIT_DONE(started) return (started)
#else
typedef void shim_stat_init_result;
#define SHIM_STAT_INIT_DONE(started) \
    do {                             \
        if (!(started))              \
            exit(1);                 \
        return;                      \
    } while (0)
#endif

/* 4.2 made every column a string field too (_ws.col.info, _ws.col.protocol...), filled in the
 * tree from the column text before the postdissectors run (col_dissect in packet-frame.c). A
 * postdissector that changes a column afterwards leaves those fields on the old text, so
 * `tshark -e _ws.col.Info` and `_ws.col.info contains ...` would miss what the Info column shows.
 * compat_sync_column_fields(pinfo, tree, COL_INFO) rewrites the fields of column format `el` to
 * the column's text as it is now. Only when something asked for them (col_dissect adds them only
 * then), so the tree walk costs nothing in ordinary runs. Built and tested against 4.4 and 4.6;
 * 4.2 has the fields too but is neither built nor tested here, so it keeps the no-op. */
#if SHIM_WS_AT_LEAST(4, 4)
#include <epan/column-info.h>
#include <epan/proto.h>
static inline void compat_sync_column_fields(packet_info *pinfo, proto_tree *tree, int el)
{
    column_info *cinfo = pinfo->cinfo;
    if (!cinfo || !tree || cinfo->col_first[el] < 0)
        return;
    for (int i = cinfo->col_first[el]; i <= cinfo->col_last[el]; i++) {
        col_item_t *col = &cinfo->columns[i];
        if (!col->fmt_matx[el] || col->hf_id <= 0 || !col->col_data ||
            !proto_field_is_referenced(tree, col->hf_id))
            continue;
        GPtrArray *items = proto_find_finfo(tree, col->hf_id);
        for (unsigned k = 0; items && k < items->len; k++) {
            field_info *fi = (field_info *)g_ptr_array_index(items, k);
            fvalue_set_string(fi->value, col->col_data);
        }
        if (items)
            g_ptr_array_free(items, TRUE);
    }
}
#else
static inline void compat_sync_column_fields(packet_info *pinfo, proto_tree *tree, int el)
{
    (void)pinfo;
    (void)tree;
    (void)el;
}
#endif

/* 4.4 renamed the g-typed tvb getters (tvb_get_guint8 -> tvb_get_uint8...). The shim only uses
 * tvb_captured_length/tvb_get_ptr, which kept their names, so nothing to map yet. */

#endif
