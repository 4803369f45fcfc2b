//! This computer's own parts, a folder per operating system: `linux/` (D-Bus, X11, the Secret
//! Service, XDG; it serves every Unix) and `windows/` (WinRT, Win32, the Credential Manager, the
//! Run key). Both offer the same names, and `cfg` is written here and nowhere else in the crate, so
//! the rest of it reads the same on every platform.

#[cfg(unix)]
mod linux;
#[cfg(unix)]
pub use linux::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;
