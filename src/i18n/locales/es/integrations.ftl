integrations-intro = Conecte este portal con los demás sistemas en los que trabaja.
integrations-psa = Sincronización con el PSA
integrations-psa-blurb = Los tickets, comentarios y estados viajan en ambos sentidos con su PSA; las empresas y los contactos se importan desde él.
integrations-legal = Envío de documentos legales
integrations-legal-blurb = Envíe acuerdos y políticas firmados a su sistema de documentos.
integrations-identity = Identidad
integrations-identity-blurb = Inicio de sesión único y alta de usuarios desde su proveedor de identidad.
