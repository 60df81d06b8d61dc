# Sourced by the face restorers' recipes. link_faces FACES OUT: links into OUT the 16,459
# training faces (the first by name) and the last 64 held-out faces, which `--val-count 64` keeps
# for validation; the other 936 held-out faces are never seen.
link_faces() {
    rm -rf "$2" && mkdir -p "$2"
    { LC_ALL=C ls "$1" | head -n 16459; LC_ALL=C ls "$1" | tail -n 64; } | sed "s|^|$1/|" | xargs ln -s -t "$2"
}
