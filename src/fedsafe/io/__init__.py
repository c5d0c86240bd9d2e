"""Reading and writing the files fedsafe exchanges with people: datasets, tables, outputs."""
