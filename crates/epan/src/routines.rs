//! The plugin's registration callbacks and the routines Wireshark runs around capture files.

use std::sync::{Mutex, OnceLock};

use crate::guard;

static REGISTER: OnceLock<fn()> = OnceLock::new();
static HANDOFFS: Mutex<Vec<Box<dyn Fn() + Send>>> = Mutex::new(Vec::new());
static INIT_ROUTINES: Mutex<Vec<fn()>> = Mutex::new(Vec::new());
static CLEANUP_ROUTINES: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

pub(crate) fn register_plugin(register: fn()) {
    if REGISTER.set(register).is_err() {
        return;
    }
    // SAFETY: plain registration calls; Wireshark keeps the callbacks for the process.
    unsafe {
        epan_sys::shim_set_rust_dissector(Some(crate::dissect::rust_dissect));
        epan_sys::shim_register_plugin(Some(register_protoinfo), Some(register_handoff));
    }
}

unsafe extern "C" fn register_protoinfo() {
    if let Some(register) = REGISTER.get() {
        guard((), register)
    }
}

unsafe extern "C" fn register_handoff() {
    let handoffs = std::mem::take(&mut *HANDOFFS.lock().unwrap_or_else(|p| p.into_inner()));
    for f in handoffs {
        guard((), f);
    }
}

/// `f` runs in Wireshark's handoff phase, once every protocol (of Wireshark and of all plugins)
/// is registered: the time to hook a dissector to another protocol's table or port. Call it
/// from a registration function.
pub fn on_handoff(f: impl Fn() + Send + 'static) {
    HANDOFFS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Box::new(f));
}

unsafe extern "C" fn run_init_routines() {
    let routines = INIT_ROUTINES.lock().map(|r| r.clone()).unwrap_or_default();
    for f in routines {
        guard((), f);
    }
}

unsafe extern "C" fn run_cleanup_routines() {
    let routines = CLEANUP_ROUTINES
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    for f in routines {
        guard((), f);
    }
}

type RegisterRoutine = unsafe extern "C" fn(Option<unsafe extern "C" fn()>);

fn push_routine(
    list: &Mutex<Vec<fn()>>,
    f: fn(),
    register: RegisterRoutine,
    trampoline: unsafe extern "C" fn(),
) {
    let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
    if list.is_empty() {
        // SAFETY: registers a function that lives for the process.
        unsafe { register(Some(trampoline)) }
    }
    list.push(f);
}

/// `f` runs before a capture file is dissected (a new file, a reload, changed preferences):
/// the place to reset per-file state.
pub fn on_new_file(f: fn()) {
    push_routine(
        &INIT_ROUTINES,
        f,
        epan_sys::shim_register_init_routine,
        run_init_routines,
    );
}

/// `f` runs when a capture file is closed.
pub fn on_file_closed(f: fn()) {
    push_routine(
        &CLEANUP_ROUTINES,
        f,
        epan_sys::shim_register_cleanup_routine,
        run_cleanup_routines,
    );
}
