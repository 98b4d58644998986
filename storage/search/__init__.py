"""Full-text search of the archive (`/search`, `briefbot search`), SQLite FTS5 or PostgreSQL.

    from storage.search import search, index_issue, QueryError, SearchPage

The package, in the order a query travels:
  text     the query language and the folding/tokenising shared by index and queries
  plan     a parsed query as index terms and filters; an issue as index documents
  words    jieba + the field's vocabulary: which words a document's text stands for
  api      `search()`: plan, rank tier by tier on the database's backend, marked snippets
  score    relevance within a small rank tier, the same on both databases
  sqlite   the FTS5 backend             pg   the GIN tsvector backend
  snippet  marked snippets from the stored text (marks: briefings.marks)
  results  SearchHit / SearchPage, what `search()` returns
  index    keeping the index in step: `index_issue` (save hook), rebuild, optimize
           (which rebuilds an index written by older code)
  models   the `search_docs` row model and its sortable document ids
"""

from storage.search.api import (
    INTRO_HEADING,
    INTRO_KEY,
    MAX_PER_PAGE,
    SearchResult,
    search,
)
from storage.search.index import index_is_current, index_issue, optimize_index, rebuild_index
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
    "index_is_current",
    "index_issue",
    "optimize_index",
    "rebuild_index",
    "search",
]
