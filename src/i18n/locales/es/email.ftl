# Correos: asuntos, párrafos y textos de botones, en el idioma del destinatario.
email-hello = Hola, { $name }:
email-open = Abrir

email-invite-subject = Tiene una invitación
email-invite-intro = { $inviter } le ha invitado al portal { $portal }.
email-invite-intro-company = { $inviter } le ha invitado al portal { $portal } de { $company }.
email-invite-body = Elija una contraseña con el enlace de abajo en un plazo de 7 días.
email-invite-action = Aceptar la invitación

email-reset-subject = Restablezca su contraseña
email-reset-body = Alguien ha pedido restablecer la contraseña de su cuenta. Si fue usted, use el enlace de abajo en el plazo de una hora. Si no, ignore este correo: su contraseña no cambia.
email-reset-action = Elegir una contraseña nueva

email-ticket-reply-subject = [#{ $number }] Nueva respuesta: { $subject }
email-ticket-reply-intro = { $author } ha respondido a su solicitud n.º { $number }: { $subject }
email-ticket-status-subject = [#{ $number }] { $status }: { $subject }
email-ticket-status-line = La solicitud n.º { $number } «{ $subject }» está ahora: { $status }.
email-ticket-reason = Motivo: { $reason }
email-ticket-action = Ver la solicitud

email-footer-help = ¿Preguntas? Escriba a
email-footer-reason = Recibe este correo porque tiene una cuenta en { $portal } o le invitaron a abrirla.

email-membership-subject = Invitación de { $company }
email-membership-intro = { $inviter } le ha invitado a unirse a { $company } en el portal { $portal }.
email-membership-body = Conserva su cuenta y su inicio de sesión. Inicie sesión y abra «Sus empresas» para aceptar; hasta entonces no cambia nada.
email-membership-action = Ver la invitación
