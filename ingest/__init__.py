"""ingest — read the member units' deliveries into the graph, behind data contracts.

Layout (modelled on OpenSanctions/zavod): one folder per source (``ingest/registration/``,
``tax/``, ``credit/``, ``court/``, ``police/``, ``tips/``, ``bank/``, ``ads/``), each declaring
its tables as data (:class:`ingest.spec.TableSpec`: headers, required columns, kinds,
enumerations, lookups for dirty categorical values) plus a small builder per table that consumes
the fields it uses. Headers present but not declared are reported as unexpected columns.

Flow per delivery (``inbox/<YYYYMMDD>/<source>/``, dates ascending, registration first):

1. :mod:`ingest.readers` — encoding sniffed (BOM, strict UTF-8 / GB18030 trials,
   charset-normalizer), CSV or XLSX (one table per sheet); unreadable ⇒ file rejected. Where a
   file differs from the contract in small ways the adapter copes and says so in the file's
   ``notes`` (run report, HTML, summary): a sheet naming no table is ignored, a workbook's
   only sheet is read as its file name's table; a workbook where no table can be placed is
   rejected. Headers read through an alias or with spaces are noted as written → declared, and
   so are columns not read. The report also lists them field by field (``ignored_sheets``;
   per table ``sheet_placement``, ``header_mappings``, ``unexpected_columns``), which the
   app's runs page shows in the user's language.
2. :mod:`ingest.spec` / :mod:`ingest.normalise` — headers mapped, values normalised
   (half-width, dates → ISO, amounts → one unit, ratios, missing markers), exact duplicate rows
   set aside, derived check columns computed; missing required columns ⇒ file rejected.
3. :mod:`data_contracts` — Great Expectations validates each table; failing rows go to
   ``RISKGRAPH_HOME/quarantine/<run_id>/<delivery>_<source>_<table>.csv`` (IDs masked, keyed hash).
4. :mod:`ingest.build` — entity resolution (USCC, keyed person hash, masked parties, territory).
   A reference to an enterprise missing from 企业基本信息 (shareholder firm, court/police/credit
   party by USCC, payee, tip or ad target…) is linked to a ``Party`` ``X:U:<code>`` with
   ``reason = "not in registration export"`` (name and validated code kept) where the model
   allows a Party at that end; otherwise (e.g. HAS_CHANGE, FILED_TAX, BRANCH_OF) it is counted
   and listed in the run report (``unresolved``, file and row). Nothing is dropped silently.
5. :mod:`ingest.writer` — batched ``UNWIND … MERGE`` on indexed keys (10k rows per
   transaction, one query per label/mode and relationship type/endpoints).
   Into an EMPTY local graph (``RISKGRAPH_BULK_LOAD=auto``, the default) the first delivery
   date is instead resolved into an in-memory graph with the same MERGE semantics and loaded
   by Neo4j's offline importer (:mod:`ingest.bulk`); later dates are written as above.
6. :mod:`ingest.report` — ``runs/<run_id>/report.json`` and an offline HTML data-quality report.

A rejected file blocks its table(s) in that delivery; other tables and sources load. A full
snapshot ≥ 50 % smaller than the previous full of the same table blocks the delivery unless
``--force``.

Visibility and crash safety (Neo4j Community cannot hold a big file in one transaction)
----------------------------------------------------------------------------------------
Each file gets a deterministic ``load_id`` (``L:`` + sha256 prefix of its content).

* While a file is written, every node and relationship it CREATES carries
  ``pending = load_id`` (``ON CREATE SET``). Readers that need strict isolation ignore
  ``pending IS NOT NULL``; a half-written file therefore adds nothing visible to them.
* The commit point is ONE transaction that sets the file's ``LoadedFile`` node (key = sha256)
  to ``status = "committed"`` with its labels, types and row counts.
* After it, for a full snapshot, records of that table the snapshot omits get ``ended`` +
  ``ended_run``: ``rec`` = ``<source>/<table>`` and ``seen`` none of the load_ids of the
  delivery's files holding the table (a full table may come in several files, CSVs or sheets:
  it is ended once, when the last of them completes, listed in its ``end_tables``), and
  ``rec_key`` none of the record keys of the snapshot's quarantined rows (``kept``: a row that
  failed the contract was in the file; when its key columns are readable it keeps the
  records of that key; :attr:`ingest.spec.TableSpec.seen_columns`). Only the labels/types
  carrying records are scanned (``rec_labels``/``rec_types``). A node that several tables
  deliver (``TaxYear``: 纳税人信息 and 申报汇总, :attr:`graph.model.NodeSpec.parts`) is ended
  part by part: each table stamps ``seen_<part>``, its snapshot sets ``ended_<part>`` on what
  it omits, and the node is ended only when no part is current (the other table's facts of
  that year stay current, whichever table loaded last). A file of such a table that is
  the same bytes as one loaded in an earlier delivery is loaded again as part of the snapshot
  when another file of the table loads. Then ``pending`` is removed in
  batched transactions from exactly the elements the write batches reported as still pending
  (by internal id, no label or type scan); finally ``status = "done"``.
* Re-run after a crash: a file still ``loading`` is processed again under the same load_id (all
  writes are MERGEs, so it completes, and its batches report the nodes left pending by the
  crashed attempt too); a file ``committed`` but not ``done`` has its end-marking and
  finalisation redone at start-up (by scanning its labels/types for ``pending = load_id``,
  the keys being unknown then). ``done`` (or ``rejected``) files are skipped
  by content hash, so re-delivering the same file changes nothing.
* Limitation: property updates to nodes that already existed (an increment's new version of a
  record) are applied in place batch by batch, so they become visible before the commit point;
  the re-run converges to the same final state.

Throughput: reading, normalising and validating the next delivery (pure Python/pandas/GX, no
database) runs in one worker thread while the current delivery is resolved and written; GX is
imported in the background at start; the schema is applied only when the database lacks part
of it. Each write batch sends the properties all its rows share (provenance, ``rec``) once as
``$common`` instead of once per row; the returned keys are read without ``Record.data()``;
``neo4j-rust-ext`` (a dependency) packs the batches in Rust, ~15x faster than the driver's
pure-Python packstream (measured: 10k enterprise rows 1.13 s → 0.07 s CPU).

Keys, properties and provenance follow docs/architecture.md; raw citizen IDs are never written
(persons are ``P:`` + keyed hash, with ``id_masked``).

Public API: :func:`ingest.pipeline.ingest_inbox`, :func:`ingest.pipeline.run_ingest_command`.
"""
