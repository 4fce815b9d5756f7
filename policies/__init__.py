"""Policy engine and presets (shipped as needle_router.policies)."""
