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
//! counts only the frames the display filter `tcp` selects. These are tshark statistics only.
//! For windows in Wireshark's Statistics menu, Wireshark 4.0 offers a plugin three kinds, each
//! with its tshark side:
//! - [`StatsTree`]: counters in a tree (Count, Average, Rate, Percent...), `-z ABBR,tree`;
//! - [`TableStat`]: rows with the plugin's own columns, sorted by clicking a header (numbers as
//!   numbers), `-z NAME[,FILTER]`;
//! - [`ResponseTable`]: Wireshark's Service Response Time table (Index, a label, Calls, times),
//!   the only one whose rows give Apply as Filter with a filter the plugin names
//!   (`FIELD==INDEX`), `-z FILTERNAME,srt[,FILTER]`.

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

/// What a [`Column`] holds: how Wireshark's dialog sorts it (numbers as numbers, text by
/// bytes) and which [`Cell`] a row puts in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// An unsigned 32-bit number ([`Cell::Uint`]).
    Uint,
    /// A signed 32-bit number ([`Cell::Int`]).
    Int,
    /// Text ([`Cell::Text`]).
    Text,
    /// A floating-point number ([`Cell::Float`]), exact for integers up to 2^53.
    Float,
}

impl CellKind {
    fn shim(self) -> std::ffi::c_int {
        (match self {
            CellKind::Uint => epan_sys::SHIM_CELL_UINT,
            CellKind::Int => epan_sys::SHIM_CELL_INT,
            CellKind::Text => epan_sys::SHIM_CELL_STRING,
            CellKind::Float => epan_sys::SHIM_CELL_FLOAT,
        }) as std::ffi::c_int
    }
}

/// One column of a [`TableStat`]: its header, the kind of its values, its alignment, and the
/// printf format tshark prints a value with (`%u` for [`CellKind::Uint`], `%d` for
/// [`CellKind::Int`], `%s` for [`CellKind::Text`], a `%f` form for [`CellKind::Float`]; the
/// format must take exactly the one value of its kind, as Wireshark hands it to printf).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    name: &'static CStr,
    kind: CellKind,
    right_aligned: bool,
    format: &'static CStr,
}

impl Column {
    /// An unsigned number, right-aligned, printed `%u`.
    pub const fn uint(name: &'static CStr) -> Column {
        Column {
            name,
            kind: CellKind::Uint,
            right_aligned: true,
            format: c"%u",
        }
    }

    /// A signed number, right-aligned, printed `%d`.
    pub const fn int(name: &'static CStr) -> Column {
        Column {
            name,
            kind: CellKind::Int,
            right_aligned: true,
            format: c"%d",
        }
    }

    /// Text, left-aligned, printed `%s`.
    pub const fn text(name: &'static CStr) -> Column {
        Column {
            name,
            kind: CellKind::Text,
            right_aligned: false,
            format: c"%s",
        }
    }

    /// A floating-point number, right-aligned, printed by tshark with `format` (`c"%.3f"`).
    /// The format is not checked here: it must be one `%f`/`%e`/`%g` conversion, as printf
    /// reads a double. Wireshark 4.0's dialog ignores it and shows six decimals.
    pub const fn float(name: &'static CStr, format: &'static CStr) -> Column {
        Column {
            name,
            kind: CellKind::Float,
            right_aligned: true,
            format,
        }
    }

    /// The column's kind.
    pub fn kind(&self) -> CellKind {
        self.kind
    }
}

/// One value of a row, of its column's [`CellKind`], or [`Cell::Empty`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// For a [`CellKind::Uint`] column.
    Uint(u32),
    /// For a [`CellKind::Int`] column.
    Int(i32),
    /// For a [`CellKind::Text`] column; Wireshark gets a copy. No NUL inside.
    Text(&'a str),
    /// For a [`CellKind::Float`] column.
    Float(f64),
    /// No value: the dialog shows an empty cell, sorted below every value of the column.
    /// tshark's `-z` printer stops the row at the first empty cell, so keep them to the last
    /// column.
    Empty,
}

impl Cell<'_> {
    fn kind(&self) -> Option<CellKind> {
        match self {
            Cell::Uint(_) => Some(CellKind::Uint),
            Cell::Int(_) => Some(CellKind::Int),
            Cell::Text(_) => Some(CellKind::Text),
            Cell::Float(_) => Some(CellKind::Float),
            Cell::Empty => None,
        }
    }
}

/// Why a table statistic was not registered or a row not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// A table needs at least one column.
    NoColumns,
    /// A row has a different number of cells than the table has columns.
    CellCount,
    /// The cell at this index is not of its column's kind.
    CellKind(usize),
    /// The text cell at this index (0 for a response-table label) has a NUL inside.
    Nul(usize),
    /// No protocol has this filter name (register the protocol first).
    NoProtocol,
    /// A response-table row index above [`ResponseRows::MAX_INDEX`].
    IndexTooLarge(u32),
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableError::NoColumns => write!(f, "a table statistic needs at least one column"),
            TableError::CellCount => write!(f, "the row's cells do not match the columns"),
            TableError::CellKind(i) => write!(f, "cell {i} is not of its column's kind"),
            TableError::Nul(i) => write!(f, "text cell {i} has a NUL inside"),
            TableError::NoProtocol => write!(f, "no protocol has that filter name"),
            TableError::IndexTooLarge(i) => write!(f, "row index {i} is too large"),
        }
    }
}

impl std::error::Error for TableError {}

/// The rows of a running [`TableStat`], handed to [`TableStat::packet`].
pub struct TableRows<'a> {
    table: *mut epan_sys::shim_table,
    columns: &'static [Column],
    _table: std::marker::PhantomData<&'a mut ()>,
}

impl TableRows<'_> {
    /// Appends a row: one cell per column, each of its column's kind or [`Cell::Empty`].
    pub fn push(&mut self, cells: &[Cell<'_>]) -> Result<(), TableError> {
        if cells.len() != self.columns.len() {
            return Err(TableError::CellCount);
        }
        // The C strings must outlive the shim call, which copies them.
        let mut texts = Vec::new();
        for (i, (cell, column)) in cells.iter().zip(self.columns).enumerate() {
            if cell.kind().is_some_and(|k| k != column.kind) {
                return Err(TableError::CellKind(i));
            }
            if let Cell::Text(s) = cell {
                texts.push(std::ffi::CString::new(*s).map_err(|_| TableError::Nul(i))?);
            }
        }
        let mut texts = texts.iter();
        let raw: Vec<epan_sys::shim_cell> = cells
            .iter()
            .map(|cell| {
                let mut c = epan_sys::shim_cell {
                    kind: epan_sys::SHIM_CELL_NONE as std::ffi::c_int,
                    uint_value: 0,
                    int_value: 0,
                    float_value: 0.0,
                    string_value: std::ptr::null(),
                };
                match cell {
                    Cell::Uint(v) => c.uint_value = *v,
                    Cell::Int(v) => c.int_value = *v,
                    Cell::Float(v) => c.float_value = *v,
                    Cell::Text(_) => {
                        c.string_value = texts.next().map_or(std::ptr::null(), |t| t.as_ptr())
                    }
                    Cell::Empty => {}
                }
                if let Some(k) = cell.kind() {
                    c.kind = k.shim();
                }
                c
            })
            .collect();
        // SAFETY: `table` is the live table Wireshark passed for this call; `raw` and the
        // strings it points into live across the call, which copies them.
        match unsafe { epan_sys::shim_table_add_row(self.table, raw.as_ptr(), raw.len()) } {
            0 => Ok(()),
            _ => Err(TableError::CellCount),
        }
    }
}

/// A table Wireshark shows as a window under its Statistics menu (its "simple statistics"
/// dialog: the plugin's own columns, each sorted by clicking its header, numbers as numbers;
/// a display filter field; Copy and Save as...), and tshark prints with `-z CLI[,FILTER]`. It
/// is fed every frame that passes the filter, each time it (re)runs: when the window opens, on
/// Apply, on reload; tshark feeds it in its only pass, or in the second with `-2`.
///
/// Wireshark 4.0's dialog has no per-row "Apply as Filter": the plugin cannot give one (see
/// docs/plugin.md, "Statistics").
pub trait TableStat: Sync + 'static {
    /// The table starts (again), empty: reset what the statistic remembers.
    fn start(&self) {}
    /// A frame (its number, from 1) that passed the filter, after the dissectors ran on it.
    fn packet(&self, rows: &mut TableRows<'_>, frame: u32);
}

struct TableReg {
    stat: &'static dyn TableStat,
    columns: &'static [Column],
}

/// Registers `stat` as the Statistics menu item `title` and as tshark's `-z cli[,FILTER]`
/// (`cli` is usually `PROTO,WHAT` and must be unique, tshark's own `-z` names included);
/// `table_title` heads the rows in tshark's output. Call it from a registration function.
pub fn register_table_stat(
    cli: &'static CStr,
    title: &'static CStr,
    table_title: &'static CStr,
    columns: &'static [Column],
    stat: &'static dyn TableStat,
) -> Result<(), TableError> {
    if columns.is_empty() {
        return Err(TableError::NoColumns);
    }
    let raw: Vec<epan_sys::shim_table_column> = columns
        .iter()
        .map(|c| epan_sys::shim_table_column {
            name: c.name.as_ptr(),
            kind: c.kind.shim(),
            right_aligned: std::ffi::c_int::from(c.right_aligned),
            format: c.format.as_ptr(),
        })
        .collect();
    let ctx: &'static mut TableReg = Box::leak(Box::new(TableReg { stat, columns }));
    // SAFETY: the strings and the context live for the process, as Wireshark requires (the
    // shim copies the column array itself); the callbacks match the shim's types.
    let rc = unsafe {
        epan_sys::shim_register_table_stat(
            cli.as_ptr(),
            title.as_ptr(),
            table_title.as_ptr(),
            raw.as_ptr(),
            raw.len(),
            ctx as *mut TableReg as *mut c_void,
            Some(table_start),
            Some(table_packet),
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(TableError::NoColumns),
    }
}

/// # Safety
/// `ctx` is the pointer [`register_table_stat`] leaked.
unsafe fn table_reg_of(ctx: *mut c_void) -> &'static TableReg {
    // SAFETY: see above.
    unsafe { &*(ctx as *const TableReg) }
}

unsafe extern "C" fn table_start(ctx: *mut c_void) {
    // SAFETY: ctx from register_table_stat.
    guard((), || unsafe { table_reg_of(ctx) }.stat.start())
}

unsafe extern "C" fn table_packet(ctx: *mut c_void, table: *mut epan_sys::shim_table, frame: u32) {
    guard((), || {
        // SAFETY: ctx from register_table_stat.
        let reg = unsafe { table_reg_of(ctx) };
        let mut rows = TableRows {
            table,
            columns: reg.columns,
            _table: std::marker::PhantomData,
        };
        reg.stat.packet(&mut rows, frame)
    })
}

/// The rows of a running [`ResponseTable`], handed to [`ResponseTable::packet`].
pub struct ResponseRows<'a> {
    table: *mut epan_sys::shim_srt,
    _table: std::marker::PhantomData<&'a mut ()>,
}

impl ResponseRows<'_> {
    /// The highest row index: rows are an array up to the highest index used, so keep indexes
    /// dense (connection numbers, procedure numbers).
    pub const MAX_INDEX: u32 = epan_sys::SHIM_SRT_MAX_INDEX;

    /// Adds one sample `time` to row `index`, which is labelled `label` (a row keeps the label
    /// of its first sample). The row counts it as one call, for the frame being tapped.
    pub fn add(
        &mut self,
        index: u32,
        label: &str,
        time: std::time::Duration,
    ) -> Result<(), TableError> {
        if index > Self::MAX_INDEX {
            return Err(TableError::IndexTooLarge(index));
        }
        let label = std::ffi::CString::new(label).map_err(|_| TableError::Nul(0))?;
        let secs = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
        // SAFETY: `table` is the live table Wireshark passed for this call; the label lives
        // across the call, which copies it.
        match unsafe {
            epan_sys::shim_srt_add(
                self.table,
                index,
                label.as_ptr(),
                secs,
                time.subsec_nanos() as i32,
            )
        } {
            0 => Ok(()),
            _ => Err(TableError::IndexTooLarge(index)),
        }
    }
}

/// A table in Wireshark's Statistics > Service Response Time menu (under the protocol's short
/// name) and tshark's `-z FILTERNAME,srt[,FILTER]`. Its columns are Wireshark's: Index, a label
/// column the plugin names, Calls, Min/Max/Avg/Sum SRT (s), each sortable. What it has that
/// [`TableStat`] lacks is the row's context menu: Apply as Filter, Prepare as Filter, Find,
/// Colorize, with the filter `FIELD==INDEX` (the `filter_field` given at registration and the
/// row's index). Rows without a sample are hidden. Fed like a [`TableStat`].
pub trait ResponseTable: Sync + 'static {
    /// The table starts (again), empty: reset what the statistic remembers.
    fn start(&self) {}
    /// A frame (its number, from 1) that passed the filter, after the dissectors ran on it.
    fn packet(&self, rows: &mut ResponseRows<'_>, frame: u32);
}

/// Registers `table` as the response-time table of the protocol whose filter name is
/// `protocol` (registered before; one table per protocol): `table_name` heads it,
/// `label_column` names its label column, and `filter_field` is the field a row's filter
/// compares with its index (`tcplife.conn` gives `tcplife.conn==7`). Call it from a registration
/// function.
pub fn register_response_table(
    protocol: &'static CStr,
    table_name: &'static CStr,
    label_column: &'static CStr,
    filter_field: &'static CStr,
    table: &'static dyn ResponseTable,
) -> Result<(), TableError> {
    let ctx: &'static mut &'static dyn ResponseTable = Box::leak(Box::new(table));
    // SAFETY: the strings and the context live for the process, as Wireshark requires; the
    // callbacks match the shim's types.
    let rc = unsafe {
        epan_sys::shim_register_srt(
            protocol.as_ptr(),
            table_name.as_ptr(),
            label_column.as_ptr(),
            filter_field.as_ptr(),
            ctx as *mut &'static dyn ResponseTable as *mut c_void,
            Some(srt_start),
            Some(srt_packet),
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(TableError::NoProtocol),
    }
}

/// # Safety
/// `ctx` is the pointer [`register_response_table`] leaked.
unsafe fn response_table_of(ctx: *mut c_void) -> &'static dyn ResponseTable {
    // SAFETY: see above.
    unsafe { *(ctx as *const &'static dyn ResponseTable) }
}

unsafe extern "C" fn srt_start(ctx: *mut c_void) {
    // SAFETY: ctx from register_response_table.
    guard((), || unsafe { response_table_of(ctx) }.start())
}

unsafe extern "C" fn srt_packet(ctx: *mut c_void, table: *mut epan_sys::shim_srt, frame: u32) {
    guard((), || {
        let mut rows = ResponseRows {
            table,
            _table: std::marker::PhantomData,
        };
        // SAFETY: ctx from register_response_table.
        unsafe { response_table_of(ctx) }.packet(&mut rows, frame)
    })
}
