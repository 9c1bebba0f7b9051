"""The dashboard's pages (Dash pages: one module each, its layout and thin callbacks)."""
