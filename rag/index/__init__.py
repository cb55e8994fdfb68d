"""The index side: article files -> clean text and metadata -> sentences -> chunks -> embeddings ->
the index folder (FAISS + SQLite). Nothing here imports ``rag.query`` or ``rag.present``."""
