//! NC-R14: the unread number drawn on the tray icon, at the icon's own size.
//!
//! Tray hosts show the icon and nothing else (the title beside it is KDE's alone, and Windows has
//! none), so the number is drawn into the pixels: a red pill at the bottom right with white
//! digits from a 3×5 pixel font scaled by whole pixels, which stays legible from 16 px (one pixel
//! per font pixel) to 256 px without a font file or anti-aliasing. Quiet hours dim the icon; the
//! badge stays bright on it, as on the offline icon.

/// An RGBA image, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// The badge's colours.
pub const FILL: [u8; 4] = [0xD3, 0x2F, 0x2F, 0xFF];
pub const INK: [u8; 4] = [0xFF, 0xFF, 0xFF, 0xFF];

/// The 3×5 glyphs, a row per 3 bits (most significant bit on the left), top row first.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        _ => return None,
    })
}

impl Icon {
    fn put(&mut self, x: u32, y: u32, px: [u8; 4]) {
        if x < self.width && y < self.height {
            let i = ((y * self.width + x) * 4) as usize;
            self.rgba[i..i + 4].copy_from_slice(&px);
        }
    }

    /// The icon at `size`×`size` pixels, for a tray that shows it at that size (high-DPI screens ask
    /// for 32, 48, 64…): each target pixel the alpha-weighted average of the source area it covers,
    /// so that shrinking keeps edges smooth and growing keeps them sharp. The badge is drawn after,
    /// at the new size, so that its digits stay whole pixels.
    pub fn resized(&self, size: u32) -> Icon {
        if size == 0 || (self.width == size && self.height == size) || self.width == 0 || self.height == 0 {
            return self.clone();
        }
        let mut out = Icon { width: size, height: size, rgba: vec![0; (size * size * 4) as usize] };
        let (sx, sy) = (f64::from(self.width) / f64::from(size), f64::from(self.height) / f64::from(size));
        for y in 0..size {
            for x in 0..size {
                // The source area under this pixel, at least one source pixel wide.
                let (x0, x1) = (f64::from(x) * sx, (f64::from(x + 1) * sx).max(f64::from(x) * sx + 1.0));
                let (y0, y1) = (f64::from(y) * sy, (f64::from(y + 1) * sy).max(f64::from(y) * sy + 1.0));
                let mut acc = [0f64; 4];
                let mut weight = 0f64;
                let mut py = y0.floor();
                while py < y1 && (py as u32) < self.height {
                    let wy = (py + 1.0).min(y1) - py.max(y0);
                    let mut px = x0.floor();
                    while px < x1 && (px as u32) < self.width {
                        let wx = (px + 1.0).min(x1) - px.max(x0);
                        let i = (((py as u32) * self.width + px as u32) * 4) as usize;
                        let a = f64::from(self.rgba[i + 3]) / 255.0;
                        let w = wx * wy;
                        for (sum, v) in acc.iter_mut().zip(&self.rgba[i..i + 3]) {
                            *sum += f64::from(*v) * a * w;
                        }
                        acc[3] += a * w;
                        weight += w;
                        px += 1.0;
                    }
                    py += 1.0;
                }
                if weight > 0.0 && acc[3] > 0.0 {
                    let px = [
                        (acc[0] / acc[3]).round() as u8,
                        (acc[1] / acc[3]).round() as u8,
                        (acc[2] / acc[3]).round() as u8,
                        (acc[3] / weight * 255.0).round() as u8,
                    ];
                    out.put(x, y, px);
                }
            }
        }
        out
    }

    /// The icon faded (the quiet look): the same shape at less than half its opacity.
    pub fn dimmed(&self) -> Icon {
        let mut out = self.clone();
        for px in out.rgba.chunks_exact_mut(4) {
            px[3] = (u16::from(px[3]) * 2 / 5) as u8;
        }
        out
    }

    /// The icon with `text` (digits and "+", as [`crate::views::badge`] gives) in a badge at the
    /// bottom right, sized for the icon. Characters without a glyph are left out.
    pub fn with_badge(&self, text: &str) -> Icon {
        let mut out = self.clone();
        let glyphs: Vec<[u8; 5]> = text.chars().filter_map(glyph).collect();
        let size = self.width.min(self.height);
        if glyphs.is_empty() || size < 8 {
            return out;
        }
        let height = (size / 2).max(7);
        let pad = (height / 6).max(1);
        let n = glyphs.len() as u32;
        // The largest whole-pixel scale whose text fits the badge's height and the icon's width.
        let fits = |s: u32| 5 * s + 2 * pad <= height && n * 3 * s + (n - 1) * s + 2 * pad <= self.width;
        let scale = (1..=height).take_while(|s| fits(*s)).last().unwrap_or(1);
        let text_w = n * 3 * scale + (n - 1) * scale;
        let width = (text_w + 2 * pad).max(height).min(self.width);
        let (x0, y0) = (self.width - width, self.height - height);
        // A pill: a rectangle with round ends of radius height / 2.
        let r = height as f32 / 2.0;
        for y in 0..height {
            for x in 0..width {
                let cx = (x as f32 + 0.5).clamp(r, width as f32 - r);
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - r);
                if dx * dx + dy * dy <= r * r {
                    out.put(x0 + x, y0 + y, FILL);
                }
            }
        }
        let tx = x0 + (width - text_w) / 2;
        let ty = y0 + (height - 5 * scale) / 2;
        for (i, rows) in glyphs.iter().enumerate() {
            let gx = tx + i as u32 * 4 * scale;
            for (row, bits) in rows.iter().enumerate() {
                for col in 0..3u32 {
                    if bits & (0b100 >> col) == 0 {
                        continue;
                    }
                    for sy in 0..scale {
                        for sx in 0..scale {
                            out.put(gx + col * scale + sx, ty + row as u32 * scale + sy, INK);
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(size: u32) -> Icon {
        Icon { width: size, height: size, rgba: [0x20, 0x60, 0xA0, 0xFF].repeat((size * size) as usize) }
    }

    /// Reads the badge back as a person would: the ink's bounding box gives the scale, each
    /// glyph's cells are sampled and matched against the font.
    fn read(icon: &Icon) -> String {
        let ink = |x: u32, y: u32| {
            let i = ((y * icon.width + x) * 4) as usize;
            icon.rgba[i..i + 4] == INK
        };
        let pts: Vec<(u32, u32)> = (0..icon.height)
            .flat_map(|y| (0..icon.width).map(move |x| (x, y)))
            .filter(|(x, y)| ink(*x, *y))
            .collect();
        let (Some(top), Some(bottom)) = (pts.iter().map(|p| p.1).min(), pts.iter().map(|p| p.1).max()) else {
            return String::new();
        };
        let scale = (bottom - top + 1) / 5;
        let left = pts.iter().map(|p| p.0).min().unwrap();
        let right = pts.iter().map(|p| p.0).max().unwrap();
        // Every glyph has ink in its first column, so glyphs start every 4 × scale from the left.
        let mut out = String::new();
        let mut gx = left;
        while gx <= right {
            let rows: Vec<u8> = (0..5)
                .map(|row| {
                    (0..3).fold(0, |acc, col| {
                        let (x, y) = (gx + col * scale + scale / 2, top + row * scale + scale / 2);
                        (acc << 1) | u8::from(x < icon.width && ink(x, y))
                    })
                })
                .collect();
            out.push(
                "0123456789+".chars().find(|c| glyph(*c).is_some_and(|g| g[..] == rows[..])).unwrap_or('?'),
            );
            gx += 4 * scale;
        }
        out
    }

    // NC-R14
    #[test]
    fn an_icon_resized_for_a_high_dpi_tray_keeps_its_colour_shape_and_badge() {
        // A 64 px icon: a transparent border around an opaque blue square.
        let mut base = Icon { width: 64, height: 64, rgba: vec![0; 64 * 64 * 4] };
        for y in 8..56 {
            for x in 8..56 {
                base.put(x, y, [0x20, 0x60, 0xA0, 0xFF]);
            }
        }
        for size in [16, 22, 24, 32, 48, 64, 96, 128, 256] {
            let icon = base.resized(size);
            assert_eq!((icon.width, icon.height, icon.rgba.len()), (size, size, (size * size * 4) as usize));
            let at = |x: u32, y: u32| {
                let i = ((y * size + x) * 4) as usize;
                icon.rgba[i..i + 4].to_vec()
            };
            assert_eq!(
                at(size / 2, size / 2),
                vec![0x20, 0x60, 0xA0, 0xFF],
                "{size}: the middle is the colour"
            );
            assert_eq!(at(0, 0)[3], 0, "{size}: the corner stays transparent");
            // No dark fringe: the colour of a half-covered edge pixel is still the icon's colour.
            let edge = at(size / 8, size / 2);
            if edge[3] > 0 {
                assert_eq!(&edge[..3], &[0x20, 0x60, 0xA0], "{size}: {edge:?}");
            }
            for text in ["7", "42", "99+"] {
                assert_eq!(read(&icon.with_badge(text)), text, "{text} at {size} px");
            }
        }
    }

    #[test]
    fn nc_r14_the_number_reads_back_at_every_tray_size() {
        for size in [16, 22, 24, 32, 48, 64, 256] {
            for text in ["1", "7", "42", "99", "99+"] {
                let icon = blank(size).with_badge(text);
                assert_eq!(read(&icon), text, "{text} at {size} px");
                // Bottom right: the corner pixel's row is the badge's, the top left is untouched.
                assert_eq!(icon.rgba[..4], blank(size).rgba[..4], "{text} at {size} px");
            }
        }
    }

    #[test]
    fn the_badge_grows_with_the_icon_and_no_number_leaves_it_alone() {
        let ink = |icon: &Icon| icon.rgba.chunks_exact(4).filter(|p| *p == INK).count();
        assert!(ink(&blank(64).with_badge("7")) > 4 * ink(&blank(16).with_badge("7")));
        assert_eq!(blank(32).with_badge(""), blank(32));
        assert_eq!(blank(32).with_badge("x"), blank(32), "no glyph, no badge");
        assert_eq!(blank(4).with_badge("7"), blank(4), "too small to carry one");
    }

    #[test]
    fn the_quiet_look_is_faded_and_keeps_a_bright_badge() {
        let quiet = blank(32).dimmed().with_badge("5");
        assert_eq!(quiet.rgba[3], (0xFF_u16 * 2 / 5) as u8);
        assert_eq!(read(&quiet), "5");
    }
}
