# Base de conocimientos
blurb-portal-kb = Respuestas a las preguntas frecuentes, paso a paso.
kb-search = Buscar
kb-search-label = Buscar artículos
kb-search-placeholder = p. ej. VPN, impresora, contraseña
kb-categories = Categorías
kb-all-articles = Todos los artículos
kb-results-for = Resultados para «{ $q }»
kb-search-empty = Ningún artículo coincide con «{ $q }». Pruebe con menos palabras o más cortas.
kb-empty = Todavía no hay artículos aquí.
kb-raise-instead = ¿No encuentra la respuesta? Abra un ticket.
kb-visibility-public = Público
kb-visibility-clients = Todos los clientes
kb-visibility-companies = Empresas elegidas
kb-sign-in-for-more = Inicie sesión para ver más artículos
kb-updated = Actualizado
kb-was-helpful = ¿Le ha resultado útil este artículo?
kb-helpful = Sí, me ayudó
kb-not-helpful = No
kb-thanks = Gracias por su opinión.
kb-still-stuck = ¿Sigue sin resolverlo? Abra un ticket.
kb-newest = Novedades en la base de conocimientos
kb-browse = Ver la base de conocimientos
kb-suggest-heading = Estos artículos pueden responder a su pregunta
kb-new = Nuevo artículo
kb-edit = Editar artículo
kb-title = Título
kb-category = Categoría
kb-category-help = Elija una categoría existente o escriba una nueva.
kb-tags = Etiquetas
kb-tags-help = Separe las etiquetas con comas; ayudan a la búsqueda.
kb-body = Artículo
kb-body-help = Markdown: títulos (#), listas, `código`, tablas, enlaces e imágenes por dirección https.
kb-visibility = Quién puede leerlo
kb-companies = Empresas
kb-companies-help = Solo se usa si elige «Empresas elegidas».
kb-status-draft = Borrador (solo lo ve el personal)
kb-status-published = Publicado
kb-save = Guardar artículo
kb-delete = Eliminar artículo
kb-confirm-delete = ¿Eliminar el artículo «{ $title }»? También se eliminan sus votos.
kb-view-in-portal = Ver en el portal
kb-fix-errors = Corrija los campos señalados.
kb-admin-empty = Aún no hay artículos. Escriba el primero para que los clientes puedan resolver sus dudas.
kb-votes = Votos
kb-vote-counts = { $up } útiles · { $down } no útiles
kb-stat-opened = { $count ->
    [one] sugerencia abierta desde el formulario de ticket
   *[other] sugerencias abiertas desde el formulario de ticket
}
kb-stat-avoided = { $count ->
    [one] ticket evitado
   *[other] tickets evitados
}
kb-notice-saved = El artículo se ha guardado.
kb-notice-deleted = El artículo se ha eliminado.
kb-error-title = Escriba un título.
kb-error-category = Escriba una categoría.
kb-error-body = Escriba el artículo.
kb-error-visibility = Elija quién puede leer el artículo.
kb-error-companies = Elija al menos una de sus empresas.
kb-error-status = Elija borrador o publicado.
audit-say-kb-article-created = { $actor } escribió el artículo { $object }.
audit-say-kb-article-updated = { $actor } modificó el artículo { $object }.
audit-say-kb-article-deleted = { $actor } eliminó el artículo { $object }.
kb-images-title = Imágenes para artículos
kb-images-help = Suba una imagen PNG, JPEG, WebP o SVG (hasta 2 MB). Se guarda con su portal y puede colocarse en cualquier artículo con el Markdown que se muestra después de subirla.
kb-images-file = Archivo de imagen
kb-images-upload = Subir imagen
kb-images-done = Imagen subida.
kb-images-markdown = Pegue esto en el cuerpo de un artículo:
kb-images-alt = Describa la imagen
audit-say-kb-image-uploaded = { $actor } subió una imagen para artículos de la base de conocimientos.
