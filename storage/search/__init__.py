"""Full-text search of the archive (`/search`, `briefbot search`), SQLite FTS5 or PostgreSQL.

    from storage.search import search, index_issue, QueryError, SearchPage

The package, in the order a query travels:
  text     the query language and the folding/tokenising shared by index and queries
  plan     a parsed query as index terms and filters; an issue as index documents
  api      `search()`: plan, rank on the database's backend, cut marked snippets
  sqlite   the FTS5 backend (bm25)      pg   the GIN tsvector backend (ts_rank)
  snippet  marked snippets from the stored text (marks: briefings.marks)
  results  SearchHit / SearchPage, what `search()` returns
  index    keeping the index in step: `index_issue` (save hook), rebuild, optimize
  models   the `search_docs` row model and its sortable document ids
"""

from storage.search.api import (
    INTRO_HEADING,
    INTRO_KEY,
    MAX_PER_PAGE,
    SearchResult,
    search,
)
from storage.search.index import index_issue, optimize_index, rebuild_index
from storage.search.results import SearchHit, SearchPage
from storage.search.text import QueryError

__all__ = [
    "INTRO_HEADING",
    "INTRO_KEY",
    "MAX_PER_PAGE",
    "QueryError",
    "SearchHit",
    "SearchPage",
    "SearchResult",
    "index_issue",
    "optimize_index",
    "rebuild_index",
    "search",
]
