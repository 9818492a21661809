//! Statistics that tshark prints at the end of a run, asked for with `-z NAME[,FILTER]` like
//! tshark's own (`-z conv,tcp`, `-z io,phs`).
//!
//! ```ignore
//! struct Count(std::sync::atomic::AtomicU64);
//! impl epan::CliStat for Count {
//!     fn start(&self, _filter: Option<&str>) { self.0.store(0, Ordering::Relaxed) }
//!     fn packet(&self, _frame: u32) { self.0.fetch_add(1, Ordering::Relaxed); }
//!     fn draw(&self) { println!("{} frames", self.0.load(Ordering::Relaxed)) }
//! }
//! static COUNT: Count = Count(AtomicU64::new(0));
//! // in a registration function:
//! epan::register_cli_stat(c"hello,count", c"Hello/Count", &COUNT);
//! ```
//!
//! `tshark -q -z hello,count -r file` then prints the count at the end; `-z hello,count,tcp`
//! counts only the frames the display filter `tcp` selects. These are tshark statistics only;
//! for a window in Wireshark's Statistics menu (and `tshark -z ABBR,tree`), register a
//! [`StatsTree`].

use std::ffi::{c_char, c_void, CStr};

use crate::guard;

/// A statistic tshark runs when `-z` names it. Every method is called from Wireshark's
/// dissection thread, through [`guard`]: a panic is contained and only loses that call.
pub trait CliStat: Sync + 'static {
    /// tshark starts the statistic, before the first frame; `filter` is the display filter
    /// given after the name (`-z NAME,FILTER`), if any.
    fn start(&self, filter: Option<&str>) {
        let _ = filter;
    }
    /// A frame (its number, from 1) that passed the filter; every frame without one. Called
    /// once the frame is dissected, so the plugin's own dissectors have seen it.
    fn packet(&self, frame: u32) {
        let _ = frame;
    }
    /// The run is over: print the statistic on standard output.
    fn draw(&self);
}

/// Registers `stat` as tshark's `-z cli[,FILTER]` (`cli` is usually `PROTO,WHAT`); `title`
/// names it in `tshark -z help`-style listings. Call it from a registration function.
pub fn register_cli_stat(cli: &'static CStr, title: &'static CStr, stat: &'static dyn CliStat) {
    let ctx: &'static mut &'static dyn CliStat = Box::leak(Box::new(stat));
    // SAFETY: the strings and the context live for the process, as Wireshark requires; the
    // callbacks match the shim's types.
    unsafe {
        epan_sys::shim_register_cli_stat(
            cli.as_ptr(),
            title.as_ptr(),
            ctx as *mut &'static dyn CliStat as *mut c_void,
            Some(stat_start),
            Some(stat_packet),
            Some(stat_draw),
        )
    }
}

/// # Safety
/// `ctx` is the pointer [`register_cli_stat`] leaked.
unsafe fn stat_of(ctx: *mut c_void) -> &'static dyn CliStat {
    // SAFETY: see above.
    unsafe { *(ctx as *const &'static dyn CliStat) }
}

unsafe extern "C" fn stat_start(ctx: *mut c_void, filter: *const c_char) {
    guard((), || {
        // SAFETY: ctx from register_cli_stat; filter is NULL or a C string tshark owns.
        let stat = unsafe { stat_of(ctx) };
        let filter = if filter.is_null() {
            None
        } else {
            // SAFETY: non-null, NUL-terminated.
            unsafe { CStr::from_ptr(filter) }.to_str().ok()
        };
        stat.start(filter)
    })
}

unsafe extern "C" fn stat_packet(ctx: *mut c_void, frame: u32) {
    // SAFETY: ctx from register_cli_stat.
    guard((), || unsafe { stat_of(ctx) }.packet(frame))
}

unsafe extern "C" fn stat_draw(ctx: *mut c_void) {
    guard((), || {
        // SAFETY: ctx from register_cli_stat.
        unsafe { stat_of(ctx) }.draw();
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })
}

/// A node of a stats tree; [`NodeId::ROOT`] is the tree itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId(std::ffi::c_int);

impl NodeId {
    /// The tree's root: top-level nodes are its children.
    pub const ROOT: NodeId = NodeId(0);
}

/// The nodes of one running stats tree, handed to [`StatsTree`]'s methods. Every node counts
/// (the window's Count column, with Percent of its parent's count and Rate beside it).
pub struct StatsNodes<'a> {
    st: *mut epan_sys::stats_tree,
    _tree: std::marker::PhantomData<&'a mut ()>,
}

impl StatsNodes<'_> {
    /// Makes a node named `name` under `parent` (Wireshark copies the name); `with_children`
    /// when nodes will be ticked under it by name. For [`StatsTree::init`].
    pub fn create(&mut self, name: &CStr, parent: NodeId, with_children: bool) -> NodeId {
        // SAFETY: `st` is the live tree Wireshark passed for this call; name is a C string.
        NodeId(unsafe {
            epan_sys::shim_stats_tree_create_node(
                self.st,
                name.as_ptr(),
                parent.0,
                c_int_of(with_children),
            )
        })
    }

    /// Adds one to the node named `name` under `parent`, making it first when `parent` was
    /// created `with_children`. Returns the node, to tick nodes under it.
    pub fn tick(&mut self, name: &CStr, parent: NodeId, with_children: bool) -> NodeId {
        // SAFETY: as in `create`.
        NodeId(unsafe {
            epan_sys::shim_stats_tree_tick(
                self.st,
                name.as_ptr(),
                parent.0,
                c_int_of(with_children),
            )
        })
    }
}

fn c_int_of(b: bool) -> std::ffi::c_int {
    std::ffi::c_int::from(b)
}

/// A tree of counters that Wireshark shows as a window under its Statistics menu (sortable
/// columns Topic/Item, Count, Average, Min, Max, Rate, Percent, ...) and tshark prints with
/// `-z ABBR,tree[,FILTER]`. It is fed every frame (of the display filter typed in the window, if
/// any) each time Wireshark (re)runs it: when the window opens, on Apply, on reload.
pub trait StatsTree: Sync + 'static {
    /// The tree starts (again): create the top-level nodes, reset what the tree remembers.
    fn init(&self, tree: &mut StatsNodes<'_>);
    /// A frame (number from 1), after the dissectors have run on it. In the GUI the window
    /// retaps a loaded file (every frame already dissected once); tshark feeds it in its only
    /// pass, or in the second with `-2`.
    fn packet(&self, tree: &mut StatsNodes<'_>, frame: u32);
}

/// Registers `tree` under the Statistics menu as `name` (`/` makes submenus) and as tshark's
/// `-z abbr,tree`. Call it from a registration function; `abbr` must be unique.
pub fn register_stats_tree(abbr: &'static CStr, name: &'static CStr, tree: &'static dyn StatsTree) {
    let ctx: &'static mut &'static dyn StatsTree = Box::leak(Box::new(tree));
    // SAFETY: strings and context live for the process; the callbacks match the shim's types.
    unsafe {
        epan_sys::shim_register_stats_tree(
            abbr.as_ptr(),
            name.as_ptr(),
            ctx as *mut &'static dyn StatsTree as *mut c_void,
            Some(tree_init),
            Some(tree_packet),
        )
    }
}

/// # Safety
/// `ctx` is the pointer [`register_stats_tree`] leaked.
unsafe fn tree_of(ctx: *mut c_void) -> &'static dyn StatsTree {
    // SAFETY: see above.
    unsafe { *(ctx as *const &'static dyn StatsTree) }
}

unsafe extern "C" fn tree_init(ctx: *mut c_void, st: *mut epan_sys::stats_tree) {
    guard((), || {
        let mut nodes = StatsNodes {
            st,
            _tree: std::marker::PhantomData,
        };
        // SAFETY: ctx from register_stats_tree.
        unsafe { tree_of(ctx) }.init(&mut nodes)
    })
}

unsafe extern "C" fn tree_packet(
    ctx: *mut c_void,
    st: *mut epan_sys::stats_tree,
    frame: u32,
    _visited: std::ffi::c_int,
) {
    guard((), || {
        let mut nodes = StatsNodes {
            st,
            _tree: std::marker::PhantomData,
        };
        // SAFETY: ctx from register_stats_tree.
        unsafe { tree_of(ctx) }.packet(&mut nodes, frame)
    })
}
