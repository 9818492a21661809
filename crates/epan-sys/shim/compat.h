/* Every difference between the Wireshark releases epan-sys builds against (4.0, 4.2, 4.4) that
 * the C side sees lives here; the Rust side's counterpart is the cfgs build.rs emits, read only
 * in src/lib.rs. Anything version-specific elsewhere is a bug. */
#ifndef EPAN_SHIM_COMPAT_H
#define EPAN_SHIM_COMPAT_H

#include <ws_version.h>

#define SHIM_WS_AT_LEAST(maj, min) \
    (WIRESHARK_VERSION_MAJOR > (maj) || \
     (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/* 4.4 moved boolean preferences from gboolean to C99 bool storage. */
#if SHIM_WS_AT_LEAST(4, 4)
#include <stdbool.h>
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

/* 4.4 renamed the g-typed tvb getters (tvb_get_guint8 -> tvb_get_uint8...). The shim only uses
 * tvb_captured_length/tvb_get_ptr, which kept their names, so nothing to map yet. */

#endif
