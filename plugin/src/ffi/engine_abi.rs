//! The engine C ABI (see include/tcplife.h).
