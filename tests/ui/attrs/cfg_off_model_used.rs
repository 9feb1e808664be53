// A model compiled out by `#[cfg]` takes its impls with it: using it is one error.
scope::model! {
    #[cfg(any())]
    pub struct Gone("gone") {
        w: [1],
    }
}

fn main() {
    let reg = scope::Registry::new();
    let _ = Gone::new(&reg);
}
