console.log('served by aileron-ts');
