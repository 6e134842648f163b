# Knowledge base
blurb-portal-kb = Answers to common questions, step by step.
kb-search = Search
kb-search-label = Search articles
kb-search-placeholder = e.g. VPN, printer, password
kb-categories = Categories
kb-all-articles = All articles
kb-results-for = Results for “{ $q }”
kb-search-empty = No article matches “{ $q }”. Try fewer or shorter words.
kb-empty = There are no articles here yet.
kb-raise-instead = Can't find an answer? Raise a ticket.
kb-visibility-public = Public
kb-visibility-clients = All clients
kb-visibility-companies = Chosen companies
kb-sign-in-for-more = Sign in to see more articles
kb-updated = Updated
kb-was-helpful = Was this article helpful?
kb-helpful = Yes, it helped
kb-not-helpful = No
kb-thanks = Thank you for your feedback.
kb-still-stuck = Still stuck? Raise a ticket.
kb-newest = New in the knowledge base
kb-browse = Browse the knowledge base
kb-suggest-heading = These articles may answer your question
kb-new = New article
kb-edit = Edit article
kb-title = Title
kb-category = Category
kb-category-help = Pick an existing category or type a new one.
kb-tags = Tags
kb-tags-help = Separate tags with commas; they help search.
kb-body = Article
kb-body-help = Markdown: headings (#), lists, `code`, tables, links and images by https address.
kb-visibility = Who can read it
kb-companies = Companies
kb-companies-help = Only used when "Chosen companies" is selected.
kb-status-draft = Draft (only staff see it)
kb-status-published = Published
kb-save = Save article
kb-delete = Delete article
kb-confirm-delete = Delete the article “{ $title }”? Its votes are deleted too.
kb-view-in-portal = View in the portal
kb-fix-errors = Please correct the highlighted fields.
kb-admin-empty = No articles yet. Write the first one to help clients help themselves.
kb-votes = Votes
kb-vote-counts = { $up } helpful · { $down } not helpful
kb-stat-opened = { $count ->
    [one] suggestion opened from the new-ticket form
   *[other] suggestions opened from the new-ticket form
}
kb-stat-avoided = { $count ->
    [one] ticket avoided
   *[other] tickets avoided
}
kb-notice-saved = The article has been saved.
kb-notice-deleted = The article has been deleted.
kb-error-title = Enter a title.
kb-error-category = Enter a category.
kb-error-body = Write the article.
kb-error-visibility = Choose who can read the article.
kb-error-companies = Choose at least one company of yours.
kb-error-status = Choose draft or published.
audit-say-kb-article-created = { $actor } wrote the article { $object }.
audit-say-kb-article-updated = { $actor } changed the article { $object }.
audit-say-kb-article-deleted = { $actor } deleted the article { $object }.
kb-images-title = Images for articles
kb-images-help = Upload a PNG, JPEG, WebP or SVG picture (up to 2 MB). It is stored with your portal and can be placed in any article with the Markdown shown after the upload.
kb-images-file = Image file
kb-images-upload = Upload image
kb-images-done = Image uploaded.
kb-images-markdown = Paste this into an article's body:
kb-images-alt = Describe the image
audit-say-kb-image-uploaded = { $actor } uploaded an image for knowledge-base articles.
