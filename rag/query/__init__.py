"""The query side: question -> retrieval -> candidate sentences -> reader -> an answer with citations, or
an abstention. It reads the index that ``rag.index`` wrote."""
