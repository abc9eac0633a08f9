fn main() {
    eprintln!("intake benchmark: being written");
}
