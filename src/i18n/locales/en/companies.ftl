companies-add-title = Add a company
companies-add = Add company
companies-empty = No companies yet. Add your first client company above.
companies-rename = Rename
companies-new-name-for = New name for { $name }
companies-confirm-deactivate = Deactivate { $name }? Its users will be signed out and cannot sign in until you reactivate it.
