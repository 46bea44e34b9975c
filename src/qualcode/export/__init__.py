"""Writers that turn report tables and codings into files: Word, Excel, CSV, Markdown."""
