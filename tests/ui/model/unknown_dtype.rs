use scope::model;

model! {
    pub struct Counter("counter") {
        step: u64[] = zeros,
    }
}

fn main() {}
