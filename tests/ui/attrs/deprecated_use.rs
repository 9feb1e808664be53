// A deprecated model warns where the user uses it, once, and nowhere in generated code.
#![deny(deprecated)]

scope::model! {
    #[deprecated(note = "use Dense2")]
    pub struct Dense("dense") {
        w: [1],
    }
}

fn main() {
    let reg = scope::Registry::new();
    let _ = Dense::new(&reg);
}
