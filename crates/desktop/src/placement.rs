//! Where the bell window opens: beside the tray icon that was clicked, inside the work area of that
//! screen (what the panels and the taskbar leave free), whichever edge the panel is on. Below the
//! click when the window fits there (a top panel), else above it (Windows' taskbar at the bottom);
//! then moved just enough to stay on the work area, which also puts it beside a side panel.
//! All values are physical pixels.

/// A rectangle on the screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Between the click and the window.
pub const GAP: f64 = 8.0;

/// The top-left corner of a window of `size` opened by a click at `click`.
pub fn beside_click(click: (f64, f64), size: (f64, f64), work: Rect) -> (f64, f64) {
    let (width, height) = size;
    let bottom = work.y + work.height;
    let below = click.1 + GAP;
    let y = if below + height <= bottom { below } else { click.1 - GAP - height };
    let x = click.0 - width / 2.0;
    // A window larger than the work area keeps its top-left corner on it.
    let keep = |v: f64, lo: f64, hi: f64| if hi < lo { lo } else { v.clamp(lo, hi) };
    (keep(x, work.x, work.x + work.width - width), keep(y, work.y, bottom - height))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: (f64, f64) = (400.0, 640.0);

    #[test]
    fn a_bottom_taskbar_opens_the_window_above_the_click() {
        // Windows: 1920×1080, a 40 px taskbar at the bottom, the icon near the right corner.
        let work = Rect { x: 0.0, y: 0.0, width: 1920.0, height: 1040.0 };
        // Above the click, and its bottom kept off the taskbar.
        assert_eq!(beside_click((1800.0, 1060.0), SIZE, work), (1520.0, 400.0));
        // A click inside the work area (an icon in a dock): just above it.
        assert_eq!(beside_click((1800.0, 1000.0), SIZE, work), (1520.0, 1000.0 - GAP - 640.0));
    }

    #[test]
    fn a_top_panel_opens_the_window_below_it() {
        let work = Rect { x: 0.0, y: 32.0, width: 1920.0, height: 1048.0 };
        assert_eq!(beside_click((1000.0, 16.0), SIZE, work), (800.0, 32.0));
    }

    #[test]
    fn side_panels_put_the_window_beside_them() {
        let left = Rect { x: 48.0, y: 0.0, width: 1872.0, height: 1080.0 };
        assert_eq!(beside_click((24.0, 300.0), SIZE, left), (48.0, 300.0 + GAP));
        let right = Rect { x: 0.0, y: 0.0, width: 1872.0, height: 1080.0 };
        assert_eq!(beside_click((1896.0, 1000.0), SIZE, right), (1472.0, 1000.0 - GAP - 640.0));
    }

    #[test]
    fn a_second_screen_and_a_tiny_one_keep_the_window_on_their_work_area() {
        let second = Rect { x: 1920.0, y: 0.0, width: 1280.0, height: 984.0 };
        let (x, y) = beside_click((3150.0, 1000.0), SIZE, second);
        assert!(x >= 1920.0 && x + 400.0 <= 3200.0 && y >= 0.0 && y + 640.0 <= 984.0, "{x},{y}");
        let tiny = Rect { x: 0.0, y: 0.0, width: 300.0, height: 500.0 };
        assert_eq!(beside_click((150.0, 490.0), SIZE, tiny), (0.0, 0.0));
    }
}
