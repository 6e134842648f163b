companies-add-title = Añadir una empresa
companies-add = Añadir la empresa
companies-empty = Aún no hay empresas. Añada arriba su primera empresa cliente.
companies-rename = Cambiar el nombre
companies-new-name-for = Nuevo nombre para { $name }
companies-confirm-deactivate = ¿Desactivar { $name }? Se cerrarán las sesiones de sus usuarios y no podrán entrar hasta que la reactive.
