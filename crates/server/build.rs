// The admin console's pages are embedded (rust-embed): a new `npm run build` in admin/ (or its first)
// must rebuild the server even when this crate's own sources did not change.
fn main() {
    println!("cargo:rerun-if-changed=../../admin/dist");
}
