"""Training data: the tool bank, the offline synthetic generator, records I/O and the teach pipeline.

    from needle_router.data.synth import synthesize      # synthesize(n, seed, out_path) -> Stats
    from needle_router.data.records import read_records  # streaming JSONL reader (Record)
    from needle_router.data.teach import teach, SyntheticTeacher

Submodules are imported on demand so `import needle_router.data` stays cheap.
"""
